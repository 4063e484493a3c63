"""Text views shared by the text faces (the CLI and the notebook): tables, sizes, times, jobs, GPUs."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from .units import format_size


def text_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else ""


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def size(value: int | None) -> str:
    return format_size(value) if value is not None else ""


def job_field(job, key):
    return job[key] if isinstance(job, dict) else getattr(job, key)


def workers_summary(job) -> str:
    """'2 running, 1 queued' for a job (a Job or its dict)."""
    counts: dict[str, int] = {}
    for w in job_field(job, "workers"):
        counts[w["state"]] = counts.get(w["state"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in counts.items())


def output_lines(job, worker: int | None = None) -> list[str]:
    """'worker 0: output saved as checkpoint Job - x:v1' (or copied to its URL) for each worker (or
    `worker` alone) whose output is saved, e.g. after `job save-output`."""
    lines = []
    for w in job_field(job, "workers"):
        if worker not in (None, w["index"]):
            continue
        if w["output"]:
            lines.append(f"worker {w['index']}: output saved as {w['output']['kind']} {w['output']['reference']}")
        elif w["output_url"]:
            lines.append(f"worker {w['index']}: output copied to {w['output_url']}")
    return lines


def gpu_list(indexes: Iterable[int]) -> str:
    """GPU indexes as every face shows them: "#0, #1" (so that GPU 0 does not read as none), "—" for none."""
    return ", ".join(f"#{i}" for i in indexes) or "—"


def job_gpus(job) -> list[int]:
    """The GPUs a job's workers hold (or held), each once, in the order they come."""
    return list(dict.fromkeys(g for w in job_field(job, "workers") for g in (w.get("gpus") or [])))


GPU_HEADERS = ["GPU", "NAME", "MEMORY", "HELD BY"]


def gpu_rows(info: dict) -> list[tuple]:
    """One row per device of `JobManager.gpus()`: who holds it and its memory use (a cluster's GPUs are
    named by their node and their index there)."""
    rows = []
    for d in info["devices"]:
        holder = d["holder"]
        held = "free" if holder is None else (
            f"{holder.get('job_name')} worker {holder.get('worker')} ({holder['job_id'][:8]})" if holder.get("job_id")
            else holder.get("note", "held"))
        memory = format_size(d["memory_total"]) if d.get("memory_total") else ""
        if d.get("memory_used") is not None:
            memory = f"{format_size(d['memory_used'])} of {memory}"
        rows.append((f"{d['node']} {d['index']}" if d.get("node") else d["index"], d["name"], memory, held))
    return rows
