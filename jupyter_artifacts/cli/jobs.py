"""`jupyter artifacts job ...` and `jupyter artifacts gpus`: training and inference jobs on this host's GPUs."""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..jobs.options import add_arguments, from_args
from ..views import GPU_HEADERS, gpu_rows, output_lines, workers_summary
from . import output
from .context import add_command, open_store


def manager(args: argparse.Namespace):
    from ..jobs import JobManager

    return JobManager(open_store(args))


def follow(jobs, job_id: str, worker: int | None) -> str:
    """Print the log as it grows until the job ends; returns the job's final state."""
    for text in jobs.follow(job_id, worker=worker):
        sys.stdout.write(text)
        sys.stdout.flush()
    return jobs.get(job_id).state


def cmd_create(args: argparse.Namespace) -> int:
    from ..jobs import JobSpec

    jobs = manager(args)
    spec = JobSpec.from_options(args.type, args.name, args.command, from_args(args), base_dir=os.getcwd())
    job = jobs.submit(spec)
    if args.json and not args.follow:
        output.print_json(job.to_dict())
        return 0
    print(job.id, flush=True)
    if not args.follow:
        return 0
    state = follow(jobs, job.id, None)
    final = jobs.get(job.id)
    print(f"Job {final.name!r} {state}" + (f": {final.error}" if final.error else ""), file=sys.stderr)
    return 0 if state == "finished" else 1


def cmd_list(args: argparse.Namespace) -> int:
    jobs = manager(args).list(state=args.state, limit=args.limit)
    if args.json:
        output.print_json([j.to_dict() for j in jobs])
        return 0
    if not jobs:
        print("No jobs yet. Start one with `jupyter artifacts job create training NAME --command CMD`.")
        return 0
    rows = [(j.id[:12], j.name, j.type, j.state, workers_summary(j), j.resources["gpus"],
             output.when(j.created_at)) for j in jobs]
    print(output.table(rows, ["ID", "NAME", "TYPE", "STATE", "WORKERS", "GPUS", "CREATED"]))
    return 0


def describe(job: dict) -> str:
    from ..units import format_size

    res = job["resources"]
    lines = [
        f"Job {job['name']} ({job['type']})",
        f"  id:        {job['id']}",
        f"  state:     {job['state']}" + (f" ({job['error']})" if job["error"] else ""),
        f"  command:   {job['spec']['command']}",
        f"  workdir:   {job['workdir']}" + (f" (git {job['code']['git_commit'][:12]})" if job["code"].get("git_commit") else ""),
        f"  resources: {res['gpus']} GPU(s), cpu {res['cpu'] if res['cpu'] else 'any'}, "
        f"memory {format_size(res['memory'])}",
        f"  output:    {job['spec']['output']}",
        f"  executor:  {job.get('executor', 'local')}" + (f" (submitted from {job['submitted_from']})"
                                                          if job.get("submitted_from") else ""),
        "  history:   " + ", ".join(f"{s} {output.when(t)}" for s, t in job["history"]),
    ]
    if job["inputs"]:
        lines.append("  inputs:    " + ", ".join(f"{i['role']} {i['reference']}" for i in job["inputs"]))
    for w in job["workers"]:
        metrics = (w["last_metrics"] or {}).get("metrics")
        line = f"  worker {w['index']}: {w['state']}"
        if w["gpus"]:
            line += f" on GPU {','.join(map(str, w['gpus']))}"
        if (w.get("placement") or {}).get("node"):
            line += f" of node {w['placement']['node']} (Ray job {w['placement']['submission_id']})"
        if w["params"]:
            line += f" params {json.dumps(w['params'], sort_keys=True)}"
        if metrics:
            line += f" last {json.dumps(metrics, sort_keys=True)}"
        if w["output"]:
            line += f" -> {w['output']['kind']} {w['output']['reference']}"
        if w["output_url"]:
            line += f" -> {w['output_url']}"
        if w["error"]:
            line += f" ({w['error']})"
        lines.append(line)
        if w.get("kept_output"):
            lines.append(f"    output kept in {w['kept_output']}")
    kept = [c for c in job["checkpoints"] if not c["deleted"]]
    if job["checkpoints"]:
        lines.append(f"  checkpoints: {len(kept)} kept of {len(job['checkpoints'])} saved "
                     f"(GC policy: {', '.join(f'{k}={v}' for k, v in job['gc_policy'].items())})")
        for c in kept:
            lines.append(f"    {c['reference']}  worker {c['worker']} step {c['step']} {json.dumps(c['metrics'], sort_keys=True)}")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    job = manager(args).get(args.job)
    if args.json:
        output.print_json(job.to_dict())
    else:
        print(describe(job.to_dict()))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    jobs = manager(args)
    job = jobs.get(args.job)
    if args.follow:
        follow(jobs, job.id, args.worker)
        return 0
    for text in jobs.logged(job.id, worker=args.worker):
        sys.stdout.write(text)
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    jobs = manager(args)
    job = jobs.stop(args.job, save_output=args.save_output)
    if args.wait:
        job = jobs.wait(job.id, timeout=job.spec["stop_grace"] + 60)
    if args.json:
        output.print_json(job.to_dict())
    else:
        print(f"Stopping job {job.name!r} ({job.id[:12]}): {job.state}")
    return 0


def cmd_save_output(args: argparse.Namespace) -> int:
    job = manager(args).save_output(args.job, worker=args.worker)
    if args.json:
        output.print_json(job.to_dict())
    else:
        print("\n".join(output_lines(job, args.worker)))
    return 0


def cmd_gc_policy(args: argparse.Namespace) -> int:
    result = manager(args).set_gc_policy(args.job, args.save_experiment_best, args.save_trial_best,
                                         args.save_trial_latest, dry_run=args.dry_run)
    if args.json:
        output.print_json(result)
        return 0
    verb = "would delete" if args.dry_run else "deleted"
    print("policy: " + ", ".join(f"{k}={v}" for k, v in result["policy"].items()))
    if result.get("note"):
        print(result["note"])
    for d in result["deleted"]:
        print(f"{verb} {d.get('reference') or d['id']} (worker {d['worker']}, step {d['step']}, metric {d['metric']})")
    for p in result["protected"]:
        print(f"kept {p.get('reference') or p['id']}: {p['reason']}")
    for e in result.get("errors", []):
        print(f"could not delete {e.get('reference') or e['id']}: {e['error']}", file=sys.stderr)
    if not result["deleted"]:
        print(f"nothing {'would be' if args.dry_run else 'was'} deleted")
    return 0


def cmd_gpus(args: argparse.Namespace) -> int:

    info = manager(args).gpus()
    if args.json:
        output.print_json(info)
        return 0
    if info["source"] == "ray":
        print(f"Ray cluster at {info['cluster']}: " + ", ".join(
            f"{n['node']}{' (head)' if n['head'] else ''} {n['gpus']:g} GPU(s)" for n in info["nodes"]))
    if not info["devices"]:
        print(f"No GPUs ({info['source']}). Set JUPYTER_ARTIFACTS_GPUS=fake:N to simulate N devices.")
        return 0
    print(output.table(gpu_rows(info), GPU_HEADERS))
    if info["queue"]:
        print(f"{len(info['queue'])} worker(s) waiting for GPUs")
    return 0


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser,
             only: str | None = None) -> None:
    """Every command of this family (they are few: `only` makes no difference)."""
    job = commands.add_parser("job", help="training and inference jobs on this host's GPUs", parents=[common])
    verbs = job.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    def verb(name: str, func, help_text: str, json_flag: bool = True) -> argparse.ArgumentParser:
        return add_command(verbs, common, name, func, help_text, json_flag)

    p = verb("create", cmd_create, "start a job; prints its id (--json: the whole job)")
    add_arguments(p)  # the option table's (jobs/options.py), as the magics and the REST body take them
    p.add_argument("--follow", action="store_true", help="stream the logs until the job ends")

    p = verb("list", cmd_list, "jobs, newest first")
    p.add_argument("--state", help="only jobs in this state")
    p.add_argument("--limit", type=int, default=100)

    p = verb("show", cmd_show, "a job: state, workers, metrics, outputs, checkpoints")
    p.add_argument("job", metavar="JOB", help="a job id (or its start) or name (the newest of that name)")

    p = verb("logs", cmd_logs, "a job's logs (build, worker output, state changes)", json_flag=False)
    p.add_argument("job", metavar="JOB")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
    p.add_argument("--worker", type=int, metavar="N", help="only worker N")

    p = verb("stop", cmd_stop, "stop a job: SIGTERM to its workers' process groups, SIGKILL after the grace period")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--save-output", action="store_true", help="still save what the workers wrote to ML_OUTPUT_PATH")
    p.add_argument("--wait", action="store_true", help="return once the job has ended")

    p = verb("save-output", cmd_save_output, "save again the output a worker kept because saving it failed")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--worker", type=int, metavar="N", help="only worker N (default: every worker with a kept output)")

    p = verb("gc-policy", cmd_gc_policy, "change a job's checkpoint GC policy and collect its checkpoints with it")
    p.add_argument("job", metavar="JOB")
    p.add_argument("--save-experiment-best", metavar="N")
    p.add_argument("--save-trial-best", metavar="N")
    p.add_argument("--save-trial-latest", metavar="N")
    p.add_argument("--dry-run", action="store_true", help="print what would be deleted, delete nothing")

    add_command(commands, common, "gpus", cmd_gpus, "this host's GPUs, who holds each, and memory use")
