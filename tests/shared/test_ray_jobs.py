"""Jobs on a real Ray cluster: two raylets on 127.0.0.1 (one pretend GPU each, each node its own data
dir), the store root a bucket on moto's S3 server, the team's hosts separate data dirs, every
command a separate process. One cluster serves the whole module.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest

from .conftest import Host, Team, wait_until, write_tree
from .raycluster import LocalRayCluster, free_port

ON_S3 = pytest.mark.parametrize("team", ["s3"], indirect=True)


@pytest.fixture(scope="module")
def cluster(moto_server, tmp_path_factory):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_server.url,
           "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    made = LocalRayCluster(tmp_path_factory.mktemp("ray"), env).start()
    yield made
    made.stop()


def on_ray(host: Host, cluster: LocalRayCluster) -> Host:
    host.env.update(JUPYTER_ARTIFACTS_EXECUTOR="ray", RAY_ADDRESS=cluster.address)
    return host


def wait_job(host: Host, job_id: str, timeout: float = 180) -> dict:
    """Until the job has ended and been collected (its last supervisor done)."""
    def done():
        job = host.json("job", "show", job_id)
        return job if job["state"] in ("finished", "failed", "stopped") and job["gc_result"] is not None else None

    wait_until(done, timeout=timeout, what=f"job {job_id} to end")
    return host.json("job", "show", job_id)


GRID = """\
import os, time
from jupyter_artifacts import worker
p = worker.params()
with open(os.path.join(os.environ["ML_CHECKPOINT_PATH"], "ck", "w.bin")) as handle:
    ck = handle.read()
gpus = os.environ["CUDA_VISIBLE_DEVICES"]
print(f"start {time.time()} gpus={gpus} ck={ck} lr={p['lr']} seed={p['seed']}", flush=True)
worker.report(step=1, loss=p["lr"] * p["seed"])
time.sleep(4)
with open(os.path.join(os.environ["ML_OUTPUT_PATH"], "model.txt"), "w") as handle:
    handle.write(f"lr={p['lr']} seed={p['seed']}")
print(f"end {time.time()}", flush=True)
"""


@ON_S3
def test_a_grid_runs_two_at_a_time_on_two_gpus_and_the_team_sees_its_outputs(team: Team, cluster, tmp_path):
    a, b = on_ray(team.host("a"), cluster), on_ray(team.host("b"), cluster)
    a.run("checkpoint", "create", "ck", str(write_tree(tmp_path / "ck", {"w.bin": "weights"})))
    project = write_tree(tmp_path / "project", {"grid.py": GRID, "grid.json": json.dumps({"lr": [0.1, 0.2],
                                                                                           "seed": [1, 2]})})
    job = a.json("job", "create", "training", "grid", "--gpus", "1", "--checkpoint", "ck:v1", "--hyperparams",
                 str(project / "grid.json"), "--command", "python grid.py", "--workdir", str(project),
                 "--metric", "loss")
    job_id = job["id"]
    assert job["executor"] == "ray" and len(job["workers"]) == 4

    # the GPUs tab: the cluster's two nodes, a GPU each, both held by this job while two workers run
    def both_held():
        info = b.json("gpus")
        held = [d for d in info["devices"] if d["holder"] and d["holder"].get("job_id") == job_id]
        return info if len(held) == 2 else None

    info = wait_until(both_held, timeout=120, what="two GPUs held by the grid")
    assert info["source"] == "ray" and len(info["nodes"]) == 2 and len({d["node_id"] for d in info["devices"]}) == 2
    assert "grid worker" in a.run("gpus").stdout

    done = wait_job(a, job_id)
    assert done["state"] == "finished", done
    spans = []
    for w in done["workers"]:
        log = a.run("job", "logs", job_id, "--worker", str(w["index"])).stdout
        start = float(re.search(r"^start (\S+) gpus=(\S*) ck=weights ", log, re.M).group(1))
        end = float(re.search(r"^end (\S+)", log, re.M).group(1))
        assert w["gpus"] and w["placement"]["node_id"], w
        spans.append((start, end, (w["placement"]["node_id"], tuple(w["gpus"]))))
    for start, _end, _gpu in spans:  # never more than two at once, never two on one GPU
        running = [s for s in spans if s[0] <= start < s[1]]
        assert len(running) <= 2, spans
        assert len({s[2] for s in running}) == len(running), spans
    assert len({s[2][0] for s in spans}) == 2  # both nodes ran workers (each attached from the root)

    # the outputs are in the root, with their lineage, for another host
    outputs = {w["output"]["id"] for w in done["workers"]}
    seen = {c["id"]: c for c in b.json("checkpoint", "list") if c["id"] in outputs}
    assert len(seen) == 4
    for artifact in seen.values():
        assert artifact["produced_by"]["job_id"] == job_id and artifact["produced_by"]["params"]["lr"] in (0.1, 0.2)
        assert [i["reference"] for i in artifact["inputs"]] == ["ck:v1"]
    assert b.json("checkpoint", "lineage", min(outputs))["produced_by"]["job_id"] == job_id
    used = b.json("checkpoint", "lineage", "ck:v1")["used_by"]
    assert [(j["id"], j["roles"], len(j["workers"])) for j in used] == [(job_id, ["checkpoint"], 4)]
    assert {w["output"]["id"] for w in used[0]["workers"]} == outputs
    shown = b.json("job", "show", job_id)
    assert shown["state"] == "finished" and shown["submitted_from"] and shown["gc_result"] is not None
    assert {w["last_metrics"]["metrics"]["loss"] for w in shown["workers"]} == {0.1, 0.2, 0.4}
    assert "ck=weights" in b.run("job", "logs", job_id, "--worker", "3").stdout  # the root's copy


SPAWNER = """\
#!/bin/sh
sleep 1000 &
echo "child $!"
python - <<'EOF'
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print("daemon", os.getpid(), flush=True)
        os.execvp("sleep", ["sleep", "1001"])
    os._exit(0)
os.wait()
EOF
echo "worker $$"
i=0
while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@ON_S3
def test_logs_are_live_on_every_host_and_a_stop_from_another_host_ends_every_process(team, cluster, tmp_path):
    a, b = on_ray(team.host("a"), cluster), on_ray(team.host("b"), cluster)
    script = write_tree(tmp_path / "scripts", {"spawn.sh": SPAWNER}) / "spawn.sh"  # outside the working folder
    job_id = a.run("job", "create", "inference", "spawner", "--command", f"sh {script}", "--stop-grace", "2",
                   "--workdir", str(write_tree(tmp_path / "project", {"README": "x"}))).stdout.strip()
    # live, from the submitting host (its copy of Ray's log) and from another (Ray's log itself)
    here = wait_until(lambda: (t := a.run("job", "logs", job_id).stdout) and "tick 3" in t and t, timeout=120,
                      what="ticks on host a")
    there = wait_until(lambda: (t := b.run("job", "logs", job_id).stdout) and "tick 5" in t and t, timeout=30,
                       what="ticks on host b")
    assert "runs in its own cgroup" in here or "runs without a cgroup" in here
    pids = {name: int(re.search(rf"^{name} (\d+)$", there, re.M).group(1)) for name in ("child", "daemon", "worker")}
    assert all(alive(p) for p in pids.values()), pids
    assert b.json("job", "show", job_id)["state"] == "running"
    if "runs in its own cgroup" not in here:  # then a daemon outlives its worker, as with local jobs
        pids.pop("daemon")

    stopped_at = time.monotonic()
    b.run("job", "stop", job_id)
    wait_until(lambda: not any(alive(p) for p in pids.values()), timeout=30, what="every process to end")
    job = wait_job(a, job_id, timeout=60)
    assert job["state"] == "stopped" and time.monotonic() - stopped_at < 30, job
    assert b.json("job", "show", job_id)["state"] == "stopped"
    log = b.run("job", "logs", job_id).stdout
    assert "tick" in log and "stopped" in log


LOOP = """\
import os, sys, time
i = 0
while not os.path.exists(sys.argv[1]):
    i += 1
    print(f"line {i}", flush=True)
    time.sleep(0.1)
print("last line", flush=True)
"""


@ON_S3
def test_a_server_restart_mid_job_loses_neither_the_job_nor_its_logs(team, cluster, tmp_path, jupyter_server):
    host = on_ray(team.host("a"), cluster)
    write_tree(tmp_path / "lab" / "work", {"loop.py": LOOP})
    gate = tmp_path / "gate"
    env = {k: v for k, v in host.env.items() if k != "JUPYTER_ARTIFACTS_EXECUTOR"}  # the server's setting says
    server = {"env": env, "args": ("--ArtifactsApp.executor=ray",)}
    first = jupyter_server(tmp_path / "lab", team.root, "first", **server)
    job = first.ok("jobs", {"type": "training", "name": "survivor", "command": f"loop.py {gate}", "workdir": "work"},
                   expect=201)
    job_id = job["id"]
    assert job["executor"] == "ray"
    read, offset = first.read_log(job_id, 0, "line 3")
    first.end(signal.SIGKILL)

    second = jupyter_server(tmp_path / "lab", team.root, "second", **server)
    assert second.ok(f"jobs/{job_id}")["state"] == "running"
    more, offset = second.read_log(job_id, offset, "line " + str(int(re.findall(r"line (\d+)", read)[-1]) + 5))
    read += more
    gate.touch()
    while True:
        chunk = second.ok(f"jobs/{job_id}/logs?offset={offset}")
        read, offset = read + chunk["text"], chunk["offset"]
        if chunk["finished"]:
            break
        time.sleep(0.1)
    assert second.ok(f"jobs/{job_id}")["state"] == "finished"
    numbered = [int(n) for n in re.findall(r"^line (\d+)$", read, re.M)]
    assert numbered == list(range(1, len(numbered) + 1)) and "last line\n" in read
    assert read == second.ok(f"jobs/{job_id}/logs?offset=0")["text"]


@ON_S3
def test_a_stopped_cluster_or_an_unshared_root_is_refused_in_one_line(team, tmp_path):
    host = team.host("a")
    host.env.update(JUPYTER_ARTIFACTS_EXECUTOR="ray", RAY_ADDRESS=f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    line = host.fail("job", "create", "training", "nowhere", "--command", "true")
    assert time.monotonic() - started < 10 and "could not be reached" in line, line
    host.env["JUPYTER_ARTIFACTS_ROOT"] = str(tmp_path / "mine")  # a folder of this host, not shared
    line = host.fail("job", "create", "training", "nowhere", "--command", "true")
    assert "shared by the cluster's nodes" in line, line
    assert host.run("job", "list").stdout.startswith("No jobs")


def test_a_worker_waits_for_a_node_that_fits():
    from jupyter_artifacts.jobs.raycluster import placeable

    nodes = [{"node_id": "a", "resources_total": {"GPU": 1, "CPU": 4}},
             {"node_id": "b", "resources_total": {"GPU": 2, "CPU": 2}}]
    held = [{"node_id": "b", "state": "ALIVE", "required_resources": {"GPU": 1}}]
    assert placeable(nodes, held, {"GPU": 1}) and not placeable(nodes, held, {"GPU": 2})
    pending = [{"node_id": None, "state": "PENDING_CREATION", "required_resources": {"GPU": 1}}]
    assert placeable(nodes, held + pending, {"GPU": 1})  # a's GPU goes to the pending one, b has one left
    assert not placeable(nodes, held + pending * 2, {"GPU": 1})
    assert not placeable(nodes, held, {"GPU": 1}, unseen=[{"GPU": 1}, {"GPU": 1}])  # this host's, not shown yet
    assert placeable(nodes, [], {"GPU": 1, "CPU": 3}) and not placeable(nodes, [], {"GPU": 2, "CPU": 3})
