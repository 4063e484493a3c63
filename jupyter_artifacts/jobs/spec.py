"""What a job asks for, checked before anything runs: the one validation every face goes through."""

from __future__ import annotations

import itertools
import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..units import parse_size

JOB_TYPES = ("training", "inference")
OUTPUT_KINDS = ("checkpoint", "model")
MAX_JOB_NAME = 150  # leaves room for " Worker <n> Checkpoint" in artifact names
MAX_WORKERS = 1000
GC_FIELDS = ("save_experiment_best", "save_trial_best", "save_trial_latest")


def parse_gpus(value: Any) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and value != int(value)):
            raise ValueError
        gpus = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Invalid GPU count {value!r}: use a whole number, 0 or more.") from None
    if gpus < 0:
        raise InvalidInput(f"Invalid GPU count {value!r}: use a whole number, 0 or more.")
    return gpus


def parse_cpu(value: Any) -> float | None:
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


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise InvalidInput(f"Invalid {name} {value!r}: use a whole number, 0 or more.")
    return int(value)


def load_json_file(path: str, what: str) -> Any:
    path = os.path.expanduser(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise InvalidInput(f"No such {what} file: {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read the {what} file {path}: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The {what} file {path} is not valid JSON: {exc}.") from None


def load_manifest_file(path: str) -> list[dict]:
    """A data manifest file: one JSON document, or JSON lines of {"url": ..., "path": ...}."""
    path = os.path.expanduser(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise InvalidInput(f"Cannot read the data manifest {path}: {exc.strerror or exc}.") from None
    try:
        return parse_manifest(json.loads(text))
    except json.JSONDecodeError:
        pass
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"The data manifest {path} is not valid JSON or JSON lines (line {number}: {exc}).") from None
    return parse_manifest(items)


def parse_manifest(data: Any) -> list[dict]:
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


def split_hyperparameters(data: Any) -> tuple[dict, dict]:
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


@dataclass
class JobSpec:
    """A job as submitted. `from_dict` takes REST bodies; `validate` is called by `JobManager.submit`."""

    type: str
    name: str
    command: str
    gpus: int = 0
    cpu: float | None = None
    memory: int | str | None = None
    model: str | None = None
    checkpoints: list[str] = field(default_factory=list)
    public_checkpoints: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    data_manifest: list[dict] | None = None
    params: dict = field(default_factory=dict)
    hyperparameters: dict = field(default_factory=dict)
    requirements: str | None = None  # the text of a requirements.txt; None: the kernel's own Python
    python: str | None = None  # the interpreter of the kernel's environment; default: this process's
    output: str = "checkpoint"
    metric: str | None = None
    smaller_is_better: bool = True
    save_experiment_best: int = 0
    save_trial_best: int = 1
    save_trial_latest: int = 1
    workdir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    stop_grace: float = 10.0

    @classmethod
    def from_dict(cls, data: dict) -> "JobSpec":
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
        unknown = sorted(set(flat) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidInput(f"Unknown job field(s): {', '.join(unknown)}. "
                               f"Known fields: resources, gc_policy, {', '.join(cls.__dataclass_fields__)}.")
        for required in ("type", "name", "command"):
            if required not in flat:
                raise InvalidInput(f"A job needs {required!r}.")
        spec = cls(**flat)
        spec.validate()
        return spec

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
            setattr(self, key, _count(key, getattr(self, key)))
        if not isinstance(self.env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()):
            raise InvalidInput("env must be an object of string values.")
        try:
            self.stop_grace = float(self.stop_grace)
        except (TypeError, ValueError):
            raise InvalidInput("stop_grace must be a number of seconds.") from None
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
        return asdict(self)
