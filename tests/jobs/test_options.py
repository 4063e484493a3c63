"""The job options are declared once (jobs/options.py): the spec's fields, the command line, the REST
body's checks and the option files' one loader all come from that table and agree."""

from __future__ import annotations

import json

import pytest

from jupyter_artifacts.errors import ArtifactsError, InvalidInput
from jupyter_artifacts.jobs import JobSpec, body
from jupyter_artifacts.jobs.options import CLI, OPTIONS, SPEC_FIELDS, from_args
from jupyter_artifacts.kernel.actions import Session


def test_the_spec_has_exactly_the_tables_fields():
    assert list(JobSpec.__annotations__) == [o.name for o in SPEC_FIELDS]
    spec = JobSpec(type="training", name="j", command="true")
    assert {k: v for k, v in spec.to_dict().items() if k not in ("type", "name", "command")} == {
        o.name: o.default for o in SPEC_FIELDS[3:]}


def test_the_command_line_takes_every_option_of_the_table(cli, tmp_path):
    import argparse

    from jupyter_artifacts.jobs.options import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser, CLI)
    (tmp_path / "params.json").write_text('{"lr": 0.5}')
    (tmp_path / "grid.json").write_text('{"seed": [1, 2]}')
    (tmp_path / "requirements.txt").write_text("# none\n")
    (tmp_path / "manifest.jsonl").write_text('{"url": "file:///x", "path": "x"}\n')
    args = parser.parse_args([
        "training", "every", "--command", "true", "--workdir", str(tmp_path), "--gpus", "1", "--cpu", "1",
        "--memory", "8Gi", "--model", "m", "--checkpoint", "a", "--checkpoint", "b", "--public-checkpoint", "p",
        "--data", "d", "--data-manifest", "manifest.jsonl", "--params", "params.json", "--hyperparams", "grid.json",
        "--requirements", "requirements.txt", "--output-type", "model", "--metric", "loss", "--larger-is-better",
        "--save-experiment-best", "2", "--save-trial-best", "3", "--save-trial-latest", "4", "--env", "A=1",
        "--stop-grace", "5"])
    options = from_args(args, CLI)
    spec_fields = {o.name for o in SPEC_FIELDS} - {"type", "name", "command", "python"}
    assert {o.name for o in SPEC_FIELDS if o.key in options} == spec_fields  # the CLI covers every field
    spec = JobSpec.from_options(args.type, args.name, args.command, options, base_dir=str(tmp_path))
    assert (spec.gpus, spec.cpu, spec.memory, spec.checkpoints, spec.public_checkpoints) == (1, 1.0, 8 * 2**30,
                                                                                             ["a", "b"], ["p"])
    assert (spec.params, spec.hyperparameters, spec.requirements) == ({"lr": 0.5}, {"seed": [1, 2]}, "# none\n")
    assert spec.data_manifest == [{"url": "file:///x", "path": "x"}] and spec.smaller_is_better is False
    assert spec.gc_policy() == {"save_experiment_best": 2, "save_trial_best": 3, "save_trial_latest": 4}
    assert (spec.env, spec.stop_grace, spec.output, spec.metric) == ({"A": "1"}, 5.0, "model", "loss")
    with pytest.raises(InvalidInput, match="Unknown job option"):
        JobSpec.from_options("training", "j", "true", {"gpu": 1})


@pytest.mark.parametrize(("field", "value", "words"), [
    ("gpus", 1.5, "'gpus' must be an integer"), ("name", 7, "'name' must be a string"),
    ("checkpoints", [1], "'checkpoints' must be a list of references"), ("env", {"A": 1}, "object of string values"),
    ("smaller_is_better", "yes", "true or false"), ("save_trial_best", -1, "between 0 and 1000000"),
    ("resources", [], "'resources' must be an object"),
])
def test_a_rest_body_of_the_wrong_type_names_the_field(field, value, words):
    with pytest.raises(InvalidInput, match=words):
        body.check({"type": "training", "name": "j", "command": "true", field: value})
    if field in ("gpus", "save_trial_best"):  # grouped fields: checked inside their group too
        group = next(o.group for o in OPTIONS if o.name == field)
        with pytest.raises(InvalidInput, match=f"{group}.{field}|{field} must be"):
            body.check({"type": "training", "name": "j", "command": "true", group: {field: value}})


def test_every_face_reads_option_files_with_one_loader_and_one_error_text(cli, store, tmp_path):
    """The CLI, the notebook (magics, widgets, SDK) and the REST body name a missing or broken file alike."""
    from jupyter_artifacts.server.handlers.jobs import prepare_job_body

    (tmp_path / "broken.json").write_text("{not json")
    session = Session(fixed_store=store, fixed_cwd=str(tmp_path))
    for name, flag, key in (("missing.json", "--params", "params"), ("broken.json", "--hyperparams", "hyperparameters"),
                            ("missing.txt", "--requirements", "requirements")):
        cli.cwd = tmp_path
        from_cli = cli.fail("job", "create", "training", "j", "--command", "true", flag, name).removeprefix("Error: ")
        with pytest.raises(ArtifactsError) as from_kernel:
            session.job_spec("training", "j", "true", **{key: name})
        rest = {"type": "training", "name": "j", "command": "true",
                "requirements_file" if key == "requirements" else key: name}
        with pytest.raises(ArtifactsError) as from_rest:
            prepare_job_body(rest, str(tmp_path), [], 10)
        assert from_cli == from_kernel.value.message == from_rest.value.message, (from_cli, from_kernel.value.message)
        assert name in from_cli and (from_cli.startswith("No such") or "not valid JSON" in from_cli)


def test_a_stored_spec_comes_back_as_it_was(tmp_path):
    spec = JobSpec.from_dict({"type": "inference", "name": "j", "command": "run.sh", "memory": "1G",
                              "data": "rows", "workdir": str(tmp_path)})
    stored = json.loads(json.dumps(spec.to_dict()))
    assert JobSpec.from_stored(stored) == spec and JobSpec.from_stored(stored).memory == 10**9
