"""Checkpoint garbage collection with the policy Determined users know.

A job is an experiment and each worker a trial. `keep` is the pure rule; `collect` applies it to a
job's saved checkpoints, never touching ones with an alias, used by another job, or leased.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    id: str
    trial: int
    step: float
    value: float | None  # the searcher metric at that step, None where it was not reported
    order: int = 0  # ties on step are broken by save order


def _metric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def keep(candidates: list[Candidate], smaller_is_better: bool = True, save_experiment_best: int = 0,
         save_trial_best: int = 1, save_trial_latest: int = 1) -> set[str]:
    """The ids kept: best of the job, best of each trial (checkpoints with the metric only), latest of each trial."""
    sign = 1.0 if smaller_is_better else -1.0
    with_metric = sorted((c for c in candidates if c.value is not None), key=lambda c: (sign * c.value, c.order))
    kept = {c.id for c in with_metric[:save_experiment_best]}
    trials: dict[int, list[Candidate]] = {}
    for c in candidates:
        trials.setdefault(c.trial, []).append(c)
    for members in trials.values():
        best = [c for c in with_metric if c in members]
        kept.update(c.id for c in best[:save_trial_best])
        latest = sorted(members, key=lambda c: (-c.step, -c.order))
        kept.update(c.id for c in latest[:save_trial_latest])
    return kept


def rank(candidates: list[Candidate], smaller_is_better: bool = True) -> list[Candidate]:
    """Best first; checkpoints without the metric last."""
    sign = 1.0 if smaller_is_better else -1.0
    return sorted(candidates, key=lambda c: (c.value is None, sign * (c.value or 0.0), c.order))


def candidates_from_rows(rows: list[dict], metric: str | None) -> list[Candidate]:
    out = []
    for order, row in enumerate(rows):
        value = _metric((row.get("metrics") or {}).get(metric)) if metric else None
        step = row.get("step")
        out.append(Candidate(id=row["artifact_id"], trial=row["worker"],
                             step=float(step) if isinstance(step, (int, float)) else float(order),
                             value=value, order=order))
    return out


def collect(store, db, job: dict, dry_run: bool = False) -> dict:
    """Delete the job's saved checkpoints the policy does not keep; returns what went and what stayed.

    The files go first (the store deletes an artifact's record, then its blobs), then the jobs
    database notes the deletion; a checkpoint already gone from the store is noted and skipped.
    """
    from ..errors import ArtifactsError, NotFound

    policy = job["gc_policy"]
    spec = job["spec"]
    store.sync(force=True)  # on a shared root: other hosts' aliases and artifacts as they are now
    rows = db.checkpoints(job["id"], include_deleted=False)
    candidates = candidates_from_rows(rows, spec.get("metric"))
    kept = keep(candidates, spec.get("smaller_is_better", True), policy["save_experiment_best"],
                policy["save_trial_best"], policy["save_trial_latest"])
    deleted, protected, missing, errors = [], [], [], []
    by_id = {r["artifact_id"]: r for r in rows}
    for cand in rank(candidates, spec.get("smaller_is_better", True)):
        if cand.id in kept:
            continue
        row = by_id[cand.id]
        entry = {"id": cand.id, "worker": row["worker"], "step": row["step"], "metric": cand.value}
        artifact = store.catalog.get(cand.id)
        if artifact is None:
            missing.append(entry)
            if not dry_run:
                db.mark_checkpoint_deleted(cand.id)
            continue
        entry["reference"] = artifact.reference
        reasons = []
        if artifact.aliases:
            reasons.append("has alias " + ", ".join(artifact.aliases))
        users = db.jobs_using(cand.id, exclude=job["id"])
        if users:
            reasons.append("used by job " + ", ".join(users))
        holders = store.holders(cand.id)
        if holders:
            reasons.append("held by " + ", ".join(holders))
        if reasons:
            protected.append({**entry, "reason": "; ".join(reasons)})
            continue
        if dry_run:
            deleted.append(entry)
            continue
        try:
            store.delete(cand.id, kind="checkpoint")
        except NotFound:
            missing.append(entry)
        except (ArtifactsError, OSError) as exc:
            errors.append({**entry, "error": str(getattr(exc, "message", exc))})
            continue
        else:
            deleted.append(entry)
        db.mark_checkpoint_deleted(cand.id)
    result = {"dry_run": dry_run, "policy": policy, "metric": spec.get("metric"),
              "smaller_is_better": spec.get("smaller_is_better", True),
              "kept": sorted(kept), "deleted": deleted, "protected": protected, "already_missing": missing,
              "errors": errors, "at": time.time()}
    return result


def collect_job(db, layout, job_id: str, open_store, dry_run: bool = False) -> dict | None:
    """Collect one ended job's checkpoints (one GC at a time, under `layout.gc_lock()`), record the
    result with the job and note what went in its log. `open_store` is called only when there is
    something to collect. None if the job is gone."""
    from .logs import append_log

    job = db.job(job_id)
    if job is None:
        return None
    if not db.checkpoints(job_id, include_deleted=False):
        result = {"dry_run": dry_run, "policy": job["gc_policy"], "kept": [], "deleted": [], "protected": [],
                  "already_missing": [], "errors": [], "at": time.time()}
    else:
        with layout.gc_lock():
            result = collect(open_store(), db, job, dry_run=dry_run)
    if not dry_run:
        db.set_job_fields(job_id, gc_done=1, gc_result=result)
        workers = db.workers(job_id)
        if result["deleted"] and workers:
            names = ", ".join(d.get("reference", d["id"]) for d in result["deleted"])
            append_log(layout.worker(job_id, workers[0]["idx"]).log, f"[job] checkpoint GC deleted {names}\n")
    return result
