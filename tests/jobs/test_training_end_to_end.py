"""A real training job: scikit-learn's bundled digits as a dataset, an SVC grid of 6 combinations."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from .helpers import wait_job

sklearn = pytest.importorskip("sklearn")

TRAIN = '''
import os, pickle, time
import numpy as np
from sklearn.svm import SVC
from jupyter_artifacts import worker

p = worker.params({"C": 1.0})
data = np.load(os.path.join(os.environ["ML_DATA_PATH"], "digits", "digits.npz"))
X, y = data["X"] / 16.0, data["y"]
X_train, y_train, X_val, y_val = X[:1200], y[:1200], X[1200:], y[1200:]
os.makedirs("ckpt", exist_ok=True)
for step, size in enumerate((1200, 400, 150), start=1):  # largest first: the latest is not the best
    model = SVC(kernel="poly", degree=p["degree"], decision_function_shape=p["decision_function_shape"],
                C=p["C"], gamma="scale")
    model.fit(X_train[:size], y_train[:size])
    accuracy = float(model.score(X_val, y_val))
    worker.report(step=step, val_accuracy=accuracy, train_size=size)
    with open("ckpt/model.pkl", "wb") as f:
        pickle.dump(model, f)
    worker.save_checkpoint("ckpt", step=step)
out = os.environ["ML_OUTPUT_PATH"]
with open(os.path.join(out, "model.pkl"), "wb") as f:
    pickle.dump(model, f)
with open(os.path.join(out, "params.json"), "w") as f:
    f.write(open(os.environ["ML_PARAMS_PATH"]).read())
'''


def test_svc_grid_on_digits_end_to_end(cli, tmp_path, store_root):
    from sklearn.datasets import load_digits

    digits = load_digits()
    data_dir = tmp_path / "digits-data"
    data_dir.mkdir()
    np.savez(data_dir / "digits.npz", X=digits.data, y=digits.target)
    cli.run("dataset", "create", "digits", str(data_dir))
    work = tmp_path / "project"
    work.mkdir()
    (work / "train.py").write_text(TRAIN)
    (work / "grid.json").write_text(json.dumps({"C": 2.0, "degree": [3, 4, 5],
                                                "decision_function_shape": ["ovo", "ovr"]}))
    cli.cwd = work
    job_id = cli.run("job", "create", "training", "svc", "--command", "train.py", "--data", "digits",
                     "--hyperparams", "grid.json", "--gpus", "1", "--cpu", "1", "--metric", "val_accuracy",
                     "--larger-is-better", "--save-experiment-best", "2", "--save-trial-best", "0").stdout.strip()
    job = wait_job(cli, job_id, timeout=180)
    assert job["state"] == "finished", cli.run("job", "logs", job_id).stdout

    # one worker per combination, each with its merged params
    params = [w["params"] for w in job["workers"]]
    assert len(params) == 6
    assert {(p["degree"], p["decision_function_shape"]) for p in params} == {
        (d, s) for d in (3, 4, 5) for s in ("ovo", "ovr")}
    assert all(p["C"] == 2.0 for p in params)
    assert all(w["last_metrics"]["step"] == 3 for w in job["workers"])
    assert all(c["metrics"]["val_accuracy"] > 0.9 for c in job["checkpoints"] if c["step"] == 1)  # all 1200 samples

    # six linked output artifacts, with lineage back to the dataset and the code
    dataset = cli.json("dataset", "show", "digits")
    for w in job["workers"]:
        out = w["output"]
        assert out["reference"] == f"Job - svc Worker {w['index']}:v1"
        art = cli.json("checkpoint", "show", out["id"])
        assert art["produced_by"]["job_id"] == job_id
        assert art["produced_by"]["worker"] == w["index"]
        assert art["produced_by"]["params"] == w["params"]
        assert art["produced_by"]["code"]["command"] == "train.py"
        assert {"id": dataset["id"], "role": "dataset", "reference": "digits:v1"} in art["inputs"]
    lineage = cli.json("dataset", "lineage", "digits")
    downstream = {n["name"] for n in lineage["downstream"]}
    assert {f"Job - svc Worker {i}" for i in range(6)} <= downstream

    # the GC policy was applied at the end: exactly the checkpoints the rule keeps remain
    saved = job["checkpoints"]
    assert len(saved) == 18  # 3 steps x 6 workers
    # each checkpoint carries the accuracy its worker reported (and printed) at that step
    for w in job["workers"]:
        log = cli.run("job", "logs", job_id, "--worker", str(w["index"])).stdout
        printed = [float(m) for m in re.findall(r"^\[metrics\] step=\d+ val_accuracy=(\S+)", log, re.M)]
        mine = sorted((c for c in saved if c["worker"] == w["index"]), key=lambda c: c["step"])
        assert [c["step"] for c in mine] == [1, 2, 3]
        assert [c["metrics"]["val_accuracy"] for c in mine] == pytest.approx(printed, abs=1e-5)
    # the policy applied by hand: the 2 best of the job (larger val_accuracy is better, ties go to the
    # checkpoint saved first) and the latest of each worker; with the full training set at step 1,
    # the best are step 1 checkpoints, never a worker's latest
    by_save = sorted(saved, key=lambda c: c["created_at"])
    best_two = sorted(by_save, key=lambda c: c["metrics"]["val_accuracy"], reverse=True)[:2]
    assert [c["step"] for c in best_two] == [1, 1]
    latest = [c for c in saved if c["step"] == 3]
    expected = {c["id"] for c in best_two + latest}
    assert len(expected) == 8
    assert {c["id"] for c in saved if not c["deleted"]} == expected
    for c in saved:
        found = cli.run("checkpoint", "show", c["id"], check=False)
        assert (found.returncode == 0) == (c["id"] in expected)
    assert len(job["gc_result"]["deleted"]) == 18 - len(expected)

    # changing the policy later collects again; --dry-run only says what would go
    plan = json.loads(cli.run("job", "gc-policy", "svc", "--save-experiment-best", "1", "--save-trial-best", "0",
                              "--save-trial-latest", "0", "--dry-run", "--json").stdout)
    assert len(plan["deleted"]) == len(expected) - 1
    assert all(cli.run("checkpoint", "show", c, check=False).returncode == 0 for c in expected)
    done = json.loads(cli.run("job", "gc-policy", "svc", "--save-experiment-best", "1", "--save-trial-best", "0",
                              "--save-trial-latest", "0", "--json").stdout)
    assert {d["id"] for d in done["deleted"]} == {d["id"] for d in plan["deleted"]}
    remaining = [c for c in job_after(cli, job_id)["checkpoints"] if not c["deleted"]]
    assert len(remaining) == 1
    best = max((c for c in saved), key=lambda c: (c["metrics"]["val_accuracy"], -saved.index(c)))
    assert remaining[0]["metrics"]["val_accuracy"] == best["metrics"]["val_accuracy"]
    # worker outputs are never collected
    assert all(cli.run("checkpoint", "show", w["output"]["id"], check=False).returncode == 0 for w in job["workers"])


def job_after(cli, job_id):
    return json.loads(cli.run("job", "show", job_id, "--json").stdout)
