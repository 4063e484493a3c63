"""Jobs as text and tables: what the magics print and what the JobMonitor widget shows."""

from __future__ import annotations

import json
import time

from ..views import GPU_HEADERS, gpu_list, gpu_rows, job_field, job_gpus, workers_summary
from .display import Table, when


def duration(job) -> str:
    start = job_field(job, "started_at") or job_field(job, "created_at")
    end = job_field(job, "ended_at") or time.time()
    seconds = max(0.0, end - start)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def outputs_text(job) -> str:
    outs = [f"{o['kind']} {o['reference']}" for o in job_field(job, "outputs") if o.get("reference")]
    urls = [w["output_url"] for w in job_field(job, "workers") if w.get("output_url")]
    return ", ".join(outs + urls)


def short_outputs(job, width: int = 48) -> str:
    """What a job made, in a table cell: the first output, and how many more."""
    outs = [f"{o['kind']} {o['reference']}" for o in job_field(job, "outputs") if o.get("reference")]
    outs += [w["output_url"] for w in job_field(job, "workers") if w.get("output_url")]
    if not outs:
        return ""
    first = outs[0] if len(outs[0]) <= width else outs[0][:width - 1] + "…"
    return first + (f" (+{len(outs) - 1} more)" if len(outs) > 1 else "")


def started_line(job) -> str:
    workers = len(job_field(job, "workers"))
    gpus = job_field(job, "resources")["gpus"]
    per = f", {gpus} GPU{'s' if gpus != 1 else ''} each" if workers > 1 else f", {gpus} GPU{'s' if gpus != 1 else ''}"
    return (f"Started {job_field(job, 'type')} job {job_field(job, 'name')!r} ({job_field(job, 'id')[:12]}): "
            f"{workers} worker{'s' if workers != 1 else ''}{per}")


def status_line(job) -> str:
    return (f"Job {job_field(job, 'name')!r} is {job_field(job, 'state')} ({workers_summary(job)}). "
            f"Follow it with %job_logs {job_field(job, 'id')[:12]} --follow; stop it with %stop_job {job_field(job, 'id')[:12]}")


def summary_line(job) -> str:
    state = job_field(job, "state")
    line = f"Job {job_field(job, 'name')!r} {state} in {duration(job)}"
    if job_field(job, "error"):
        line += f": {job_field(job, 'error')}"
    outputs = outputs_text(job)
    if outputs:
        line += f"; output: {outputs}"
    if state != "finished":
        line += f" (logs: %job_logs {job_field(job, 'id')[:12]})"
    return line


def log_tail(session, job_id: str, lines: int = 20) -> str:
    """The last `lines` lines the job logged."""
    text = "".join(session.jobs.logged(job_id))
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def jobs_table(jobs: list) -> Table:
    rows = [(j.id[:12], j.name, j.type, j.state, workers_summary(j), gpu_list(job_gpus(j)), when(j.created_at),
             short_outputs(j)) for j in jobs]
    return Table(["ID", "NAME", "TYPE", "STATE", "WORKERS", "GPUS", "CREATED", "OUTPUT"], rows)


def gpus_table(info: dict) -> Table:
    caption = f"{len(info['queue'])} worker(s) waiting for GPUs" if info.get("queue") else ""
    return Table(GPU_HEADERS, gpu_rows(info), caption)


def worker_rows(job) -> list[tuple]:
    rows = []
    for w in job_field(job, "workers"):
        metrics = (w.get("last_metrics") or {}).get("metrics") or {}
        step = (w.get("last_metrics") or {}).get("step")
        output = w["output"]["reference"] if w.get("output") else (w.get("output_url") or "")
        rows.append((w["index"], w["state"] + (f" ({w['error']})" if w.get("error") else ""),
                     gpu_list(w.get("gpus") or []),
                     json.dumps(w["params"], sort_keys=True) if w.get("params") else "",
                     ("" if step is None else f"step {step} ") + " ".join(f"{k}={_num(v)}" for k, v in metrics.items()),
                     output))
    return rows


def _num(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def workers_table(job) -> Table:
    return Table(["WORKER", "STATE", "GPUS", "PARAMS", "LAST METRICS", "OUTPUT"], worker_rows(job))


def describe(job) -> str:
    res = job_field(job, "resources")
    lines = [f"Job {job_field(job, 'name')} ({job_field(job, 'type')}) {job_field(job, 'state')}"
             + (f": {job_field(job, 'error')}" if job_field(job, "error") else ""),
             f"  id: {job_field(job, 'id')}   gpus: {res['gpus']}   time: {duration(job)}"]
    if job_field(job, "inputs"):
        lines.append("  inputs: " + ", ".join(f"{i['role']} {i['reference']}" for i in job_field(job, "inputs")))
    lines += ["  " + line for line in repr(workers_table(job)).splitlines()]
    return "\n".join(lines)
