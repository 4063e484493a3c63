"""What a job asks for, checked before anything runs: the one validation every face goes through.

`JobSpec`'s fields and defaults are those of the option table (jobs/options.py). A face hands what it
was given to `JobSpec.from_options` (files named by path, --larger-is-better, KEY=VALUE pairs); a REST
body goes through `from_body` (files named by path too), a dict of fields through `from_dict`; what
the jobs database holds, checked already, comes back with `from_stored`. `JobInfo` is what the manager
found when it accepted the job (its inputs, devices, code, the store's settings), stored with it. A
supervisor reads both on its way to the worker, so nothing heavy is imported here.
"""

from __future__ import annotations

import itertools
import math
import os

from ..errors import InvalidInput
from ..units import parse_size
from .options import EXECUTORS, JOB_TYPES, OPTIONS, SPEC_FIELDS

OUTPUT_KINDS = ("checkpoint", "model")
MAX_JOB_NAME = 150  # leaves room for " Worker <n> Checkpoint" in artifact names
MAX_WORKERS = 1000
GC_FIELDS = ("save_experiment_best", "save_trial_best", "save_trial_latest")
FIELD_NAMES = tuple(o.name for o in SPEC_FIELDS)
FACE_KEYS = frozenset(o.key for o in SPEC_FIELDS) | {"requirements_text"}  # what from_options takes


def parse_gpus(value: object) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and value != int(value)):
            raise ValueError
        gpus = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid GPU count {value!r}: use a whole number, 0 or more.") from None
    if gpus < 0:
        raise InvalidInput(f"Invalid GPU count {value!r}: use a whole number, 0 or more.")
    return gpus


def parse_cpu(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        cpu = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid CPU count {value!r}: use a number of cores such as 1, 2 or 0.5.") from None
    if not math.isfinite(cpu) or cpu <= 0:
        raise InvalidInput(f"Invalid CPU count {value!r}: use a number of cores more than 0, such as 1, 2 or 0.5.")
    return cpu


def count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise InvalidInput(f"Invalid {name} {value!r}: use a whole number, 0 or more.")
    return int(value)


def parse_manifest(data: object) -> list[dict]:
    """A data manifest: a list of URLs or {"url", "path"} objects, or an object {path: url}."""
    forms = ('a JSON list of URLs or {"url": ..., "path": ...} objects, '
             'or a JSON object mapping a path under ML_DATA_PATH to a URL')
    entries: list[dict] = []
    if isinstance(data, dict) and "url" in data and set(data) <= {"url", "path"}:
        data = [data]  # one entry: a JSON lines manifest of one line
    elif isinstance(data, dict):
        data = [{"path": k, "url": v} for k, v in data.items()]
    if not isinstance(data, list):
        raise InvalidInput(f"Invalid data manifest: use {forms}.")
    for item in data:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not item["url"]:
            raise InvalidInput(f"Invalid data manifest entry {item!r}: use {forms}.")
        path = item.get("path") or os.path.basename(item["url"].rstrip("/")) or "data"
        if not isinstance(path, str) or path.startswith("/") or ".." in path.split("/"):
            raise InvalidInput(f"Invalid path {path!r} in the data manifest: use a relative path without '..'.")
        entries.append({"url": item["url"], "path": path})
    return entries


def expand_grid(static: dict, grid: dict) -> list[dict]:
    """One merged parameter set per combination of the grid's values, in the file's order."""
    if not grid:
        return [dict(static)]
    keys = list(grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    if len(combos) > MAX_WORKERS:
        raise InvalidInput(f"The hyperparameter grid has {len(combos)} combinations; at most {MAX_WORKERS} are allowed.")
    return [{**static, **dict(zip(keys, values))} for values in combos]


def split_hyperparameters(data: object) -> tuple[dict, dict]:
    """A hyperparameters object: list values are grid axes, every other value is a static parameter."""
    if not isinstance(data, dict):
        raise InvalidInput('Hyperparameters must be a JSON object such as {"lr": 0.1, "degree": [3, 4, 5]}: '
                           "list values are searched as a grid, the others are passed as they are.")
    static = {k: v for k, v in data.items() if not isinstance(v, list)}
    grid = {k: v for k, v in data.items() if isinstance(v, list)}
    for key, values in grid.items():
        if not values:
            raise InvalidInput(f"Hyperparameter {key!r} has an empty list of values; give at least one.")
    return static, grid


class JobSpec:
    """A job as submitted; `validate` (run by `JobManager.submit` and the constructors) checks it."""

    # The fields, as the option table declares them (a test keeps the two in step); defaults come from it.
    type: str
    name: str
    command: str
    workdir: str | None
    gpus: int
    cpu: float | None
    memory: int | str | None
    model: str | None
    checkpoints: list[str]
    public_checkpoints: list[str]
    data: list[str]
    data_manifest: list[dict] | None
    params: dict
    hyperparameters: dict
    requirements: str | None  # the text of a requirements.txt; None: the kernel's own Python
    python: str | None  # the interpreter of the kernel's environment; default: the submitting process's
    output: str
    metric: str | None
    smaller_is_better: bool
    save_experiment_best: int
    save_trial_best: int
    save_trial_latest: int
    env: dict[str, str]
    executor: str | None  # local or ray (None: the manager's setting), filled in when submitted
    stop_grace: float
    resume: bool | str | None  # True: the newest earlier job of this name; else a job's id or name

    def __init__(self, type: str, name: str, command: str, **fields: object) -> None:
        self.type, self.name, self.command = type, name, command
        for option in SPEC_FIELDS[3:]:
            setattr(self, option.name, fields.pop(option.name) if option.name in fields else option.fresh_default())
        if fields:
            raise TypeError(f"JobSpec has no field(s) {', '.join(sorted(fields))}")

    def __repr__(self) -> str:
        return f"JobSpec({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobSpec) and self.to_dict() == other.to_dict()

    @classmethod
    def from_options(cls, type: str, name: str, command: str, options: dict, base_dir: str | None = None,
                     resolve=None) -> "JobSpec":
        """A checked spec from what a face was given, keyed by `Option.key` (the CLI's and the magics'
        argparse dests, the notebook's and the SDK's keyword arguments). Values left empty take the
        default; `params`, `hyperparameters`, `data_manifest` and `requirements` may name files,
        read relative to `base_dir` (or through `resolve`); `requirements_text` is a requirements.txt's text."""
        unknown = set(options) - FACE_KEYS
        if unknown:
            raise InvalidInput(f"Unknown job option(s): {', '.join(sorted(unknown))}.")
        body: dict = {"type": type, "name": name, "command": command}
        for option in SPEC_FIELDS[3:]:
            value = options.get(option.key)
            if value is None or (isinstance(value, (str, list, dict)) and not (value.strip() if isinstance(value, str)
                                                                                else value)):
                continue  # left empty: the default
            if option.invert:
                body[option.name] = not value
            elif option.name == "requirements":
                body["requirements_file"] = value.strip()
            else:
                body[option.name] = value.strip() if option.file and isinstance(value, str) else value
        if options.get("requirements_text") and "requirements_file" not in body:
            body["requirements"] = options["requirements_text"]
        return cls.from_body(body, base_dir, resolve)

    @classmethod
    def from_body(cls, body: dict, base_dir: str | None = None, resolve=None) -> "JobSpec":
        """A checked spec from a REST body (or any dict of fields) whose `params`, `hyperparameters`
        and `data_manifest` may be the path of a file and whose `requirements_file` names a
        requirements.txt; files are read by the one loader (jobs/files.py)."""
        from . import files

        if not isinstance(body, dict):
            raise InvalidInput("A job must be a JSON object with at least type, name and command.")
        data = dict(body)
        path = data.pop("requirements_file", None)
        if path is not None:
            if data.get("requirements") is not None:
                raise InvalidInput("Give 'requirements' (the text of a requirements.txt) or 'requirements_file', "
                                   "not both.")
            data["requirements"] = files.load(path, "requirements", "text", base_dir, resolve)
        for option in OPTIONS:
            if option.file in ("json", "manifest") and isinstance(data.get(option.name), str):
                data[option.name] = files.load(data[option.name], option.name.replace("_", " "), option.file,
                                               base_dir, resolve)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> "JobSpec":
        """A checked spec from a dict of its fields; `resources` and `gc_policy` may group some."""
        if not isinstance(data, dict):
            raise InvalidInput("A job must be a JSON object with at least type, name and command.")
        resources = data.get("resources") or {}
        if not isinstance(resources, dict):
            raise InvalidInput('resources must be an object such as {"gpus": 1, "cpu": 2, "memory": "8G"}.')
        flat = {k: v for k, v in data.items() if k != "resources"}
        for key in ("gpus", "cpu", "memory"):
            if key in resources:
                flat[key] = resources[key]
        gc = data.get("gc_policy")
        if isinstance(gc, dict):
            flat.pop("gc_policy")
            for key in GC_FIELDS:
                if key in gc:
                    flat[key] = gc[key]
        if isinstance(flat.get("checkpoints"), str):
            flat["checkpoints"] = [flat["checkpoints"]]
        if isinstance(flat.get("data"), str):
            flat["data"] = [flat["data"]]
        unknown = sorted(set(flat) - set(FIELD_NAMES))
        if unknown:
            raise InvalidInput(f"Unknown job field(s): {', '.join(unknown)}. "
                               f"Known fields: resources, gc_policy, {', '.join(FIELD_NAMES)}.")
        for required in ("type", "name", "command"):
            if required not in flat:
                raise InvalidInput(f"A job needs {required!r}.")
        spec = cls(**flat)
        spec.validate()
        return spec

    @classmethod
    def from_stored(cls, data: dict) -> "JobSpec":
        """The spec the jobs database holds (checked when it was submitted), as it was stored."""
        return cls(**{k: v for k, v in data.items() if k in FIELD_NAMES})

    def validate(self) -> "JobSpec":
        from ..store.names import check_name

        if self.type not in JOB_TYPES:
            raise InvalidInput(f"Unknown job type {self.type!r}: use training or inference.")
        check_name(self.name)
        if len(self.name) > MAX_JOB_NAME:
            raise InvalidInput(f"The job name is {len(self.name)} characters long; use at most {MAX_JOB_NAME}.")
        if not isinstance(self.command, str) or not self.command.strip():
            raise InvalidInput("A job needs a command: a shell command or the path of a script to run.")
        self.gpus = parse_gpus(self.gpus)
        self.cpu = parse_cpu(self.cpu)
        self.memory = parse_size(self.memory, "memory")
        host_cpus = len(os.sched_getaffinity(0))
        if self.cpu is not None and math.ceil(self.cpu) > host_cpus:
            raise InvalidInput(f"The job asks for {self.cpu:g} CPU cores but this host has {host_cpus}.")
        if self.model is not None and (not isinstance(self.model, str) or not self.model.strip()):
            raise InvalidInput("model must be one reference such as NAME, NAME:vN or NAME:ALIAS.")
        for key in ("checkpoints", "public_checkpoints", "data"):
            value = getattr(self, key)
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InvalidInput(f"{key} must be a list of references.")
        if self.data_manifest is not None:
            self.data_manifest = parse_manifest(self.data_manifest)
        if not isinstance(self.params, dict):
            raise InvalidInput("params must be a JSON object of static parameters.")
        static, grid = split_hyperparameters(self.hyperparameters or {})
        expand_grid({**self.params, **static}, grid)  # refuses oversized grids now
        if self.requirements is not None and not isinstance(self.requirements, str):
            raise InvalidInput("requirements must be the text of a requirements.txt file.")
        if not isinstance(self.output, str) or not self.output:
            raise InvalidInput("output must be checkpoint, model or an fsspec URL.")
        if self.output not in OUTPUT_KINDS and "://" not in self.output:
            raise InvalidInput(f"Invalid output {self.output!r}: use checkpoint, model or an fsspec URL "
                               "such as s3://bucket/folder or file:///data/out.")
        if self.metric is not None and (not isinstance(self.metric, str) or not self.metric):
            raise InvalidInput("metric must be the name of a reported metric, such as val_accuracy.")
        if not isinstance(self.smaller_is_better, bool):
            raise InvalidInput("smaller_is_better must be true or false.")
        for key in GC_FIELDS:
            setattr(self, key, count(key, getattr(self, key)))
        if not isinstance(self.env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()):
            raise InvalidInput("env must be an object of string values.")
        try:
            self.stop_grace = float(self.stop_grace)
        except (TypeError, ValueError):
            raise InvalidInput("stop_grace must be a number of seconds.") from None
        if self.executor is not None and self.executor not in EXECUTORS:
            raise InvalidInput(f"Unknown executor {self.executor!r}: use {' or '.join(EXECUTORS)}.")
        if self.resume is False:
            self.resume = None
        elif self.resume is not None and self.resume is not True and not (isinstance(self.resume, str) and
                                                                            self.resume.strip()):
            raise InvalidInput("resume must be true (the newest earlier job of this name) or a job's id or name.")
        if self.workdir is not None and not os.path.isdir(os.path.expanduser(self.workdir)):
            raise InvalidInput(f"The working folder {self.workdir} does not exist.")
        return self

    def worker_params(self) -> list[dict]:
        static, grid = split_hyperparameters(self.hyperparameters or {})
        return expand_grid({**self.params, **static}, grid)

    @property
    def output_kind(self) -> str | None:
        return self.output if self.output in OUTPUT_KINDS else None

    def gc_policy(self) -> dict:
        return {key: getattr(self, key) for key in GC_FIELDS}

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELD_NAMES}


def lease_holder(job_name: str, job_id: str, idx: int) -> str:
    """Who holds the store leases a job's worker takes on its inputs, as the store names holders."""
    return f"job {job_name} ({job_id[:8]}) worker {idx}"


class JobInfo:
    """What the manager found when it accepted a job, stored next to its spec: where it runs, how many
    workers, the host's devices, the resolved inputs, how workers are confined, the code, and the
    settings of the store it was submitted to (so its supervisors open the same store, configured alike)."""

    __slots__ = ("workdir", "workers", "devices", "inventory", "inputs", "memory_limits", "cgroups", "code", "store",
                 "cluster")

    def __init__(self, workdir: str, workers: int, devices: list[int], inventory: str, inputs: list[dict],
                 memory_limits: str | None, cgroups: str, code: dict, store: dict, cluster: str | None = None) -> None:
        self.workdir = workdir
        self.workers = workers
        self.devices = devices  # every GPU index of the inventory
        self.inventory = inventory  # where the inventory came from: nvml, nvidia-smi, fake, none
        self.inputs = inputs  # [{id, role, reference, name, version[, label, public_id]}]
        self.memory_limits = memory_limits  # auto or rlimit when the job has a memory limit, else None
        self.cgroups = cgroups  # auto or off
        self.code = code  # {command, workdir[, git_commit, git_dirty, git_root]}
        self.store = store  # StoreSettings' fields
        self.cluster = cluster  # the Ray cluster's job submission address (executor ray), else None

    @classmethod
    def from_dict(cls, data: dict) -> "JobInfo":
        return cls(data["workdir"], data["workers"], list(data.get("devices") or []), data.get("inventory", "none"),
                   list(data.get("inputs") or []), data.get("memory_limits"), data.get("cgroups") or "auto",
                   dict(data.get("code") or {}), dict(data.get("store") or {}), data.get("cluster"))

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def has_input(self, role: str) -> bool:
        return any(item["role"] == role for item in self.inputs)

    def inputs_of(self, idx: int) -> list[dict]:
        """Worker `idx`'s inputs: the job's, and the checkpoint it resumes from (an item with `worker`)."""
        return [item for item in self.inputs if item.get("worker", idx) == idx]
