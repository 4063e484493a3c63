"""The store end to end through `jupyter-artifacts`, as real subprocesses on real files."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from jupyter_artifacts.store.digest import hash_file


def write_tree(base, files):
    for rel, content in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return base


def test_create_show_list_and_change(cli, tmp_path):
    models = write_tree(tmp_path / "models", {"model.yml": "layers: 3", "weights/w.bin": b"\1" * 4096})
    created = cli.json("checkpoint", "create", "resnet ft", "models", "--alias", "best", "--meta", "lr=0.001",
                       "--meta", "note=first try")
    assert created["reference"] == "resnet ft:v1" and created["state"] == "ready"
    (models / "model.yml").write_text("layers: 4")
    (models / "extra.txt").write_text("new")
    assert cli.json("checkpoint", "create", "resnet ft", "models")["version"] == 2
    shown = cli.json("checkpoint", "show", "resnet ft:best")
    for key in ("id", "kind", "name", "version", "aliases", "state", "digest", "size", "file_count", "created_at",
                "created_by", "source", "refs", "metadata", "manifest"):
        assert key in shown, key
    assert shown["metadata"] == {"lr": 0.001, "note": "first try"} and shown["version"] == 1
    assert shown["manifest"]["weights/w.bin"]["size"] == 4096
    listed = cli.json("checkpoint", "list")
    assert [a["version"] for a in listed] == [2, 1]
    diff = cli.json("checkpoint", "diff", "resnet ft:v1", "resnet ft")
    assert diff["added"] == ["extra.txt"] and diff["changed"] == ["model.yml"] and diff["removed"] == []
    human = cli.run("checkpoint", "list").stdout
    assert "resnet ft" in human and "best" in human
    assert cli.json("model", "list") == []


def test_download_gives_files_the_user_may_change(cli, tmp_path):
    write_tree(tmp_path / "models", {"w.bin": os.urandom(3 << 20), "cfg.json": "{}"})
    cli.run("model", "create", "m", "models")
    out = cli.run("model", "download", "m", "attached").stdout
    assert "by copy" in out or "by reflink" in out
    (tmp_path / "attached" / "cfg.json").write_text('{"edited": true}')
    assert cli.run("verify").returncode == 0
    cli.run("model", "download", "m", "again")
    assert (tmp_path / "again" / "cfg.json").read_text() == "{}"


def test_verify_finds_a_flipped_byte(cli, tmp_path, store_root):
    models = write_tree(tmp_path / "models", {"a.bin": os.urandom(10000), "b.txt": "ok"})
    cli.run("checkpoint", "create", "ck", "models")
    blob = store_root / "objects" / hash_file(models / "a.bin").split(":")[1][:2] / hash_file(models / "a.bin").split(":")[1][2:]
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[1234] ^= 0x01
    blob.write_bytes(bytes(data))
    proc = cli.run("verify", check=False)
    assert proc.returncode == 1
    assert "DAMAGED checkpoint ck:v1: a.bin (content changed)" in proc.stdout
    report = json.loads(cli.run("verify", "--json", check=False).stdout)
    assert [(d["reference"], d["path"]) for d in report["damaged"]] == [("ck:v1", "a.bin")]


def test_kill_9_in_the_middle_of_a_snapshot_leaves_nothing_half_made(cli, tmp_path, store_root):
    write_tree(tmp_path / "models", {f"shard-{i:03d}.bin": os.urandom(1 << 20) for i in range(300)})
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_artifacts.cli.main", "checkpoint", "create", "big", "models"],
                            cwd=tmp_path, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    catalog = store_root / "catalog.sqlite"
    deadline = time.time() + 30
    seen_pending = False
    while time.time() < deadline and proc.poll() is None:
        if catalog.exists():
            try:
                with sqlite3.connect(catalog, timeout=1) as db:
                    seen_pending = bool(db.execute("SELECT 1 FROM artifacts WHERE state = 'pending'").fetchone())
            except sqlite3.OperationalError:
                pass
            blobs = sum(len(files) for _, _, files in os.walk(store_root / "objects"))
            if seen_pending and blobs >= 20:
                break
        time.sleep(0.005)
    assert proc.poll() is None, "the snapshot finished before it could be killed; make the tree bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert seen_pending
    assert cli.json("checkpoint", "list") == []
    for dirpath, _, files in os.walk(store_root / "objects"):
        for name in files:
            path = os.path.join(dirpath, name)
            assert hash_file(path) == f"blake3:{os.path.basename(dirpath)}{name}", "a corrupt blob was left"
    again = cli.json("checkpoint", "create", "big", "models")
    # v1 was claimed by the save that died: a version number is never given twice
    assert again["state"] == "ready" and again["file_count"] == 300 and again["version"] == 2
    assert cli.run("verify").returncode == 0
    assert "leftovers" in cli.run("gc").stdout


def test_two_concurrent_snapshots_both_succeed(cli, tmp_path):
    for name in ("a", "b"):
        write_tree(tmp_path / name, {f"f{i}.bin": os.urandom(64 << 10) for i in range(200)} | {"shared.bin": b"s" * 100000})
    procs = [subprocess.Popen([sys.executable, "-m", "jupyter_artifacts.cli.main", "checkpoint", "create", "same", name,
                               "--json"], cwd=tmp_path, env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for name in ("a", "b")]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    versions = sorted(json.loads(out)["version"] for out, _ in results)
    assert versions == [1, 2]
    assert cli.run("verify").returncode == 0


def test_delete_is_refused_under_a_lease(cli, tmp_path, store_root):
    write_tree(tmp_path / "models", {"w": "1"})
    cli.run("checkpoint", "create", "ck", "models")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import os, time\nfrom jupyter_artifacts.store import Store\n"
         f"Store(root={str(store_root)!r}).acquire_lease('ck', 'kernel of train.ipynb', pid=os.getpid())\n"
         "print('held', flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        error = cli.fail("checkpoint", "delete", "ck", "--yes")
        assert error == "Error: Checkpoint ck:v1 is in use by kernel of train.ipynb; stop or detach it first."
    finally:
        holder.kill()
        holder.wait()
    cli.run("checkpoint", "delete", "ck", "--yes")
    assert "No checkpoint named 'ck'" in cli.fail("checkpoint", "delete", "ck", "--yes")


def test_quota_and_limits(cli, tmp_path):
    write_tree(tmp_path / "models", {"w.bin": b"x" * 5000})
    cli.env["JUPYTER_ARTIFACTS_QUOTA"] = "8K"
    cli.run("checkpoint", "create", "one", "models")
    write_tree(tmp_path / "more", {"w.bin": b"y" * 5000})
    error = cli.fail("checkpoint", "create", "two", "more")
    assert "quota" in error and "8 KB" in error
    cli.env["JUPYTER_ARTIFACTS_MAX_MODEL_SIZE"] = "1K"
    assert "limit for a model" in cli.fail("model", "create", "m", "more")
    assert [a["name"] for a in cli.json("checkpoint", "list")] == ["one"]
    assert cli.json("model", "list") == []


@pytest.mark.parametrize("args, message", [
    (("checkpoint", "create", "bad/name", "models"), "Invalid name 'bad/name'"),
    (("checkpoint", "create", "bad:name", "models"), "Invalid name 'bad:name'"),
    (("checkpoint", "create", "ok", "missing-folder"), "No such file or folder"),
    (("checkpoint", "show", "nothing"), "No checkpoint named 'nothing'"),
    (("checkpoint", "show", "ck:v7"), "'ck' has no version 7"),
    (("checkpoint", "show", "ck:a:b"), "Invalid reference"),
    (("model", "show", "ck"), "No model named 'ck', but there is a checkpoint"),
    (("checkpoint", "alias", "ck", "v3"), "Invalid alias 'v3'"),
    (("checkpoint", "create", "ok", "models", "--meta", "novalue"), "use KEY=VALUE"),
    (("checkpoint", "download", "ck", "models"), "already exists and is not an empty folder"),
    (("checkpoint", "delete", "ck"), "add --yes to confirm"),
    (("import", "nope.tar"), "No such file"),
    (("find", "nope.txt"), "No such file"),
])
def test_user_errors_are_one_line_and_exit_non_zero(cli, tmp_path, args, message):
    write_tree(tmp_path / "models", {"w": "1"})
    cli.run("checkpoint", "create", "ck", "models")
    error = cli.fail(*args)
    assert message in error
    assert error.startswith("Error: ") and len(error.splitlines()) == 1


def test_usage_errors_show_usage(cli):
    proc = cli.run("checkpoint", "frobnicate", check=False)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "Traceback" not in proc.stderr


def test_find_lineage_export_import_reindex(cli, tmp_path, store_root):
    write_tree(tmp_path / "data", {"d.csv": "1,2"})
    write_tree(tmp_path / "models", {"model.yml": "a: 1"})
    write_tree(tmp_path / "other", {"conf/model.yml": "a: 1"})
    cli.run("dataset", "create", "digits", "data")
    cli.run("model", "create", "clf", "models", "--ref", "digits")
    cli.run("model", "create", "clf2", "other")
    cli.run("model", "link", "clf2", "digits")
    found = cli.json("find", "models/model.yml")
    assert sorted(a["reference"] for a in found["artifacts"]) == ["clf2:v1", "clf:v1"]
    lineage = cli.run("dataset", "lineage", "digits").stdout
    assert "clf:v1" in lineage and "clf2:v1" in lineage
    cli.run("export", "clf", "clf.tar", "--refs")
    other_env = dict(cli.env, JUPYTER_ARTIFACTS_ROOT=str(tmp_path / "other-store"))
    proc = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "import", "clf.tar", "--json"],
                          cwd=tmp_path, env=other_env, capture_output=True, text=True, check=True)
    assert sorted(json.loads(proc.stdout)["imported"]) == ["clf:v1", "digits:v1"]
    original = cli.json("model", "show", "clf")
    for suffix in ("", "-wal", "-shm"):
        path = f"{store_root}/catalog.sqlite{suffix}"
        if os.path.exists(path):
            os.unlink(path)
    assert "Reindexed 3 artifacts" in cli.run("reindex").stdout
    rebuilt = cli.json("model", "show", "clf")
    assert {k: rebuilt[k] for k in ("id", "version", "digest", "refs")} == {k: original[k] for k in ("id", "version", "digest", "refs")}


def test_download_with_refs(cli, tmp_path):
    write_tree(tmp_path / "data", {"d.csv": "1,2"})
    write_tree(tmp_path / "models", {"model.yml": "a: 1"})
    cli.run("dataset", "create", "digits", "data")
    cli.run("model", "create", "clf", "models", "--ref", "digits")
    result = cli.json("model", "download", "clf", "bundle", "--refs")
    assert result["artifacts"] == 2
    assert (tmp_path / "bundle" / "clf" / "model.yml").exists()
    assert (tmp_path / "bundle" / "digits" / "d.csv").read_text() == "1,2"


def test_progress_bar_on_a_terminal_and_quiet_json(cli, tmp_path):
    import pty
    import threading

    write_tree(tmp_path / "models", {f"f{i}.bin": os.urandom(200_000) for i in range(20)})
    primary, secondary = pty.openpty()
    shown = bytearray()

    def drain():
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_artifacts.cli.main", "checkpoint", "create", "ck", "models"],
                            cwd=tmp_path, env=cli.env, stdout=subprocess.PIPE, stderr=secondary)
    out, _ = proc.communicate(timeout=60)
    os.close(secondary)
    reader.join(timeout=5)
    os.close(primary)
    assert proc.returncode == 0 and b"Created checkpoint ck:v1" in out
    assert b"Saving ck" in shown and b"/20 files" in shown
    quiet = cli.run("checkpoint", "create", "ck", "models", "--json")
    assert quiet.stderr == "" and json.loads(quiet.stdout)["version"] == 2


def test_root_flag_wins_over_the_environment_which_wins_over_the_default(cli, tmp_path):
    write_tree(tmp_path / "models", {"w.bin": b"w"})
    flagged = tmp_path / "flagged-root"
    cli.run("--root", str(flagged), "checkpoint", "create", "ck", "models")
    assert (flagged / "catalog.sqlite").exists() and not (cli.root / "catalog.sqlite").exists()
    assert cli.json("checkpoint", "list") == []  # the environment's root is untouched
    assert [a["name"] for a in cli.json("checkpoint", "list", "--root", str(flagged))] == ["ck"]
    data_dir = tmp_path / "jupyter-data"
    default = {k: v for k, v in cli.env.items() if k != "JUPYTER_ARTIFACTS_ROOT"} | {"JUPYTER_DATA_DIR": str(data_dir)}
    proc = subprocess.run([sys.executable, "-m", "jupyter_artifacts.cli.main", "checkpoint", "create", "ck", "models"],
                          cwd=tmp_path, env=default, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (data_dir / "artifacts" / "catalog.sqlite").exists()


def test_links_hardlinks_aliases_ids_and_the_stat_cache_through_the_cli(cli, tmp_path, store_root):
    models = write_tree(tmp_path / "models", {"weights/w.bin": os.urandom(20000), "cfg.json": "{}"})
    os.symlink("weights/w.bin", models / "latest.bin")
    created = cli.json("model", "create", "m", "models")
    assert cli.json("model", "show", "m")["manifest"]["latest.bin"] == {"link": "weights/w.bin", "mode": 0o777}
    os.symlink("/etc/passwd", models / "outside")
    error = cli.fail("model", "create", "m", "models")
    assert "points outside" in error and "\n" not in error
    os.unlink(models / "outside")
    # An unchanged folder is saved again without a byte written.
    blobs_before = sorted(p for p in (store_root / "objects").rglob("*") if p.is_file())
    again = cli.json("model", "create", "m", "models")
    assert again["digest"] == created["digest"] and again["version"] == 2
    assert sorted(p for p in (store_root / "objects").rglob("*") if p.is_file()) == blobs_before
    # Addressed by its id; hard links only when asked, and read-only.
    out = cli.run("model", "download", created["id"], "linked", "--method", "hardlink").stdout
    assert "hardlink" in out
    linked = tmp_path / "linked" / "weights" / "w.bin"
    assert os.stat(linked).st_nlink > 1 and os.stat(linked).st_mode & 0o222 == 0  # the store's read-only blob
    assert os.readlink(tmp_path / "linked" / "latest.bin") == "weights/w.bin"
    copied = tmp_path / "copied"
    cli.run("model", "download", "m:v1", str(copied))
    assert os.stat(copied / "weights" / "w.bin").st_nlink == 1
    # Aliases: set, move, remove.
    cli.run("model", "alias", "m:v1", "best")
    cli.run("model", "alias", "m:v2", "best")
    assert cli.json("model", "show", "m:best")["version"] == 2
    cli.run("model", "alias", "m:v2", "best", "--remove")
    assert "no alias 'best'" in cli.fail("model", "show", "m:best")


def test_a_command_line_builds_only_its_family_and_every_command_is_mapped():
    from jupyter_artifacts.cli.main import COMMAND_MODULES, build_parser, command_word

    def commands(parser):
        [sub] = [a for a in parser._actions if a.dest == "command"]
        return sub.choices

    built = commands(build_parser())
    assert list(built) == [name for names in COMMAND_MODULES.values() for name in names]
    assert command_word(["--root", "/x", "checkpoint", "create", "a", "b"]) == "checkpoint"
    assert command_word(["--root=/x", "gpus"]) == "gpus"
    assert command_word(["--help"]) is None and command_word(["nonsense"]) is None and command_word([]) is None
    assert list(commands(build_parser("checkpoint"))) == ["checkpoint"]
    assert list(commands(build_parser("verify"))) == list(COMMAND_MODULES["jupyter_artifacts.cli.maintenance"])


def test_help_and_mistakes_still_show_every_command(cli):
    help_text = cli.run("--help").stdout
    assert all(name in help_text for name in ("model", "checkpoint", "dataset", "verify", "public", "job", "gpus"))
    wrong = cli.run("chekpoint", "list", check=False)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr and "checkpoint" in wrong.stderr
    verbs = cli.run("checkpoint", "--help").stdout
    assert "create" in verbs and "download" in verbs


def test_pipes_devices_empty_folders_and_the_store_itself_are_refused_at_once(cli, tmp_path, store_root):
    """One rule for every face: the CLI refuses what REST refuses, without hanging on a pipe."""
    os.mkfifo(tmp_path / "some.fifo")
    for source in (str(tmp_path / "some.fifo"), "/dev/zero"):
        err = cli.fail("dataset", "create", "d", source, timeout=30)
        assert "not a regular file" in err, err
    (tmp_path / "empty").mkdir()
    assert "empty" in cli.fail("dataset", "create", "d", str(tmp_path / "empty"))
    cli.run("dataset", "create", "seed", str(write_tree(tmp_path / "seed", {"a": "1"})))
    for inside in (store_root, store_root / "objects", tmp_path):
        assert "store itself" in cli.fail("dataset", "create", "d", str(inside)), inside
    assert cli.json("dataset", "list") and len(cli.json("dataset", "list")) == 1


def test_a_hostile_export_is_one_line_and_imports_nothing(cli, tmp_path, store_root):
    import io
    import tarfile

    record = {"id": "../../victim/iddoc", "kind": "model", "name": "m", "version": 1}
    with tarfile.open(tmp_path / "hostile.tar", "w") as tar:
        for name, data in (("export.json", {"format": 1, "artifacts": [record["id"]]}),
                           (f"records/{record['id']}.json", record)):
            raw = json.dumps(data).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    err = cli.fail("import", str(tmp_path / "hostile.tar"))
    assert "export.json" in err and "artifacts" in err, err
    assert not (tmp_path / "victim").exists()
    assert cli.json("model", "list") == []
