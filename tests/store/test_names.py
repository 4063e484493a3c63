import pytest

from jupyter_artifacts.errors import InvalidInput
from jupyter_artifacts.store.names import check_alias, check_name, parse_ref


@pytest.mark.parametrize("name", ["resnet", "Job - train Worker 2", "model_v1.2", "a-b_c.d e"])
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "tab\there", "new\nline", " lead", "trail ", "..", ".", "x" * 201])
def test_bad_names_say_what_is_allowed(name):
    with pytest.raises(InvalidInput, match="letters, digits, spaces"):
        check_name(name)


def test_references():
    assert parse_ref("m").name == "m" and parse_ref("m").version is None
    assert parse_ref("m:v3").version == 3
    assert parse_ref("m:latest").version is None and parse_ref("m:latest").alias is None
    assert parse_ref("m:best").alias == "best"
    assert parse_ref("0" * 32).artifact_id == "0" * 32
    for bad in ("", "m:", "m:a:b", "a/b:v1", "m:bad alias"):
        with pytest.raises(InvalidInput):
            parse_ref(bad)


@pytest.mark.parametrize("alias", ["latest", "v2", "has space", "a/b"])
def test_bad_aliases(alias):
    with pytest.raises(InvalidInput):
        check_alias(alias)
