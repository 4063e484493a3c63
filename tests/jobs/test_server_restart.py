"""A job outlives real `jupyter server` processes: SIGTERM one mid-job, SIGKILL the next, ask a third.

Each server is a subprocess on 127.0.0.1 with a token, the extension, fake GPUs and the same
store (the `jupyter_server` fixture); everything is checked over REST.
"""

from __future__ import annotations

import re
import signal
import time

from .helpers import wait_until

LOOP = """\
import os, sys, time
i = 0
while not os.path.exists(sys.argv[1]):
    i += 1
    print(f"line {i}", flush=True)
    time.sleep(0.1)
print("last line", flush=True)
"""


def test_a_job_survives_server_restarts_with_its_logs_and_gpu(tmp_path, jupyter_server):
    root, store, gate = tmp_path / "root", tmp_path / "store", tmp_path / "gate"
    (root / "work").mkdir(parents=True)
    (root / "work" / "loop.py").write_text(LOOP)
    try:
        first = jupyter_server(root, store, "first")
        job = first.ok("jobs", {"type": "training", "name": "survivor", "command": f"loop.py {gate}",
                                "workdir": "work", "resources": {"gpus": 1}}, expect=201)
        job_id = job["id"]
        read, offset = first.read_log(job_id, 0, "line 3")
        first.end(signal.SIGTERM)
        assert first.proc.returncode is not None

        second = jupyter_server(root, store, "second")
        shown = second.ok(f"jobs/{job_id}")
        assert shown["state"] == "running", shown
        held = [d for d in second.ok("gpus")["devices"] if not d["free"]]
        assert [d["holder"]["job_id"] for d in held] == [job_id]
        last_line = int(re.findall(r"line (\d+)", read)[-1])
        more, offset = second.read_log(job_id, offset, f"line {last_line + 3}")
        read += more
        second.end(signal.SIGKILL)
        assert second.proc.returncode == -signal.SIGKILL

        third = jupyter_server(root, store, "third")
        assert third.ok(f"jobs/{job_id}")["state"] == "running"
        assert [d["holder"]["job_id"] for d in third.ok("gpus")["devices"] if not d["free"]] == [job_id]
        gate.touch()
        deadline = time.monotonic() + 60
        while True:
            chunk = third.ok(f"jobs/{job_id}/logs?offset={offset}")
            read, offset = read + chunk["text"], chunk["offset"]
            if chunk["finished"]:
                break
            assert time.monotonic() < deadline, f"the log did not finish: {read[-500:]!r}"
            time.sleep(0.05)
        job = wait_until(lambda: (j := third.ok(f"jobs/{job_id}"))["state"] != "running" and j, timeout=30,
                         what="the job to end")
        assert job["state"] == "finished" and job["error"] is None, job
        assert job["workers"][0]["exit_code"] == 0
        assert [s for s, _ in job["history"]] == ["queued", "running", "finished"]
        # the log read across three servers is the whole log, and the worker's lines are all there
        assert read == third.ok(f"jobs/{job_id}/logs?offset=0")["text"]
        numbered = [int(n) for n in re.findall(r"^line (\d+)$", read, re.M)]
        assert numbered == list(range(1, len(numbered) + 1)) and len(numbered) > last_line + 3
        assert "last line\n" in read and "[job] worker 0 finished" in read
        assert all(d["free"] for d in third.ok("gpus")["devices"])
    finally:
        gate.touch()  # the worker ends whatever happened above
