"""Jobs as text and tables: what the magics print and what the JobMonitor widget shows."""

from __future__ import annotations

import json
import time

from .display import Table, when


def _get(job, key):
    return job[key] if isinstance(job, dict) else getattr(job, key)


def workers_summary(job) -> str:
    counts: dict[str, int] = {}
    for w in _get(job, "workers"):
        counts[w["state"]] = counts.get(w["state"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in counts.items())


def duration(job) -> str:
    start = _get(job, "started_at") or _get(job, "created_at")
    end = _get(job, "ended_at") or time.time()
    seconds = max(0.0, end - start)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def outputs_text(job) -> str:
    outs = [f"{o['kind']} {o['reference']}" for o in _get(job, "outputs") if o.get("reference")]
    urls = [w["output_url"] for w in _get(job, "workers") if w.get("output_url")]
    return ", ".join(outs + urls)


def started_line(job) -> str:
    workers = len(_get(job, "workers"))
    gpus = _get(job, "resources")["gpus"]
    per = f", {gpus} GPU{'s' if gpus != 1 else ''} each" if workers > 1 else f", {gpus} GPU{'s' if gpus != 1 else ''}"
    return (f"Started {_get(job, 'type')} job {_get(job, 'name')!r} ({_get(job, 'id')[:12]}): "
            f"{workers} worker{'s' if workers != 1 else ''}{per}")


def status_line(job) -> str:
    return (f"Job {_get(job, 'name')!r} is {_get(job, 'state')} ({workers_summary(job)}). "
            f"Follow it with %job_logs {_get(job, 'id')[:12]} --follow; stop it with %stop_job {_get(job, 'id')[:12]}")


def summary_line(job) -> str:
    state = _get(job, "state")
    line = f"Job {_get(job, 'name')!r} {state} in {duration(job)}"
    if _get(job, "error"):
        line += f": {_get(job, 'error')}"
    outputs = outputs_text(job)
    if outputs:
        line += f"; output: {outputs}"
    if state != "finished":
        line += f" (logs: %job_logs {_get(job, 'id')[:12]})"
    return line


def log_tail(session, job_id: str, lines: int = 20) -> str:
    text = ""
    offset: int | str = 0
    while True:
        chunk, offset = session.job_logs(job_id, offset=offset)
        if not chunk:
            break
        text += chunk
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def jobs_table(jobs: list) -> Table:
    rows = [(j.id[:12], j.name, j.type, j.state, workers_summary(j), j.resources["gpus"], when(j.created_at),
             outputs_text(j)) for j in jobs]
    return Table(["ID", "NAME", "TYPE", "STATE", "WORKERS", "GPUS", "CREATED", "OUTPUT"], rows)


def gpus_table(info: dict) -> Table:
    from ..jobs.spec import format_memory

    rows = []
    for d in info["devices"]:
        holder = d["holder"]
        held = "free" if holder is None else (
            f"{holder.get('job_name')} worker {holder.get('worker')} ({holder['job_id'][:8]})" if holder.get("job_id")
            else holder.get("note", "held"))
        memory = format_memory(d["memory_total"]) if d.get("memory_total") else ""
        if d.get("memory_used") is not None:
            memory = f"{format_memory(d['memory_used'])} of {memory}"
        rows.append((d["index"], d["name"], memory, held))
    caption = f"{len(info['queue'])} worker(s) waiting for GPUs" if info.get("queue") else ""
    return Table(["GPU", "NAME", "MEMORY", "HELD BY"], rows, caption)


def worker_rows(job) -> list[tuple]:
    rows = []
    for w in _get(job, "workers"):
        metrics = (w.get("last_metrics") or {}).get("metrics") or {}
        step = (w.get("last_metrics") or {}).get("step")
        output = w["output"]["reference"] if w.get("output") else (w.get("output_url") or "")
        rows.append((w["index"], w["state"] + (f" ({w['error']})" if w.get("error") else ""),
                     ",".join(map(str, w.get("gpus") or [])) or "-",
                     json.dumps(w["params"], sort_keys=True) if w.get("params") else "",
                     ("" if step is None else f"step {step} ") + " ".join(f"{k}={_num(v)}" for k, v in metrics.items()),
                     output))
    return rows


def _num(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def workers_table(job) -> Table:
    return Table(["WORKER", "STATE", "GPUS", "PARAMS", "LAST METRICS", "OUTPUT"], worker_rows(job))


def describe(job) -> str:
    res = _get(job, "resources")
    lines = [f"Job {_get(job, 'name')} ({_get(job, 'type')}) {_get(job, 'state')}"
             + (f": {_get(job, 'error')}" if _get(job, "error") else ""),
             f"  id: {_get(job, 'id')}   gpus: {res['gpus']}   time: {duration(job)}"]
    if _get(job, "inputs"):
        lines.append("  inputs: " + ", ".join(f"{i['role']} {i['reference']}" for i in _get(job, "inputs")))
    lines += ["  " + line for line in repr(workers_table(job)).splitlines()]
    return "\n".join(lines)
