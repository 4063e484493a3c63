"""The job-create options, declared once: every face builds its form of them from `OPTIONS`.

Each `Option` is one field of a job: its `JobSpec` field and default, how `jupyter artifacts job
create` and `%%train` / `%%infer` take it (`arg`: argparse's arguments), what a REST body may hold
there (`types`, the JSON types the OpenAPI document shows; `also`, forms accepted besides; `group`,
the object it sits in: `resources` or `gc_policy`), and how the notebook's job form shows it
(`widget`). Built from it: the CLI's and the magics' parsers (`add_arguments`, `arguments`), the
options they hand over (`from_args`), the REST body's checks and JSON schema (jobs/body.py), the
form's fields (kernel/widgets.py) and `JobSpec`'s fields and defaults (jobs/spec.py).

A face passes its options as a dict keyed by `Option.key` to `JobSpec.from_options`: file options
(`params`, `hyperparameters`, `data_manifest`: a path or the value itself; `requirements`: a path,
`requirements_text`: its text) are read there by one loader (jobs/files.py). No heavy import: a
supervisor reads `JobSpec`, whose fields come from here, on its way to the worker.
"""

from __future__ import annotations

JOB_TYPES = ("training", "inference")
EXECUTORS = ("local", "ray")  # where workers run: this host's GPUs, or a Ray cluster (jobs/supervisor/ray.py)
MAX_COUNT = 10**6  # a GC policy count, as a REST body may give it
CLI, MAGIC, REST = "cli", "magic", "rest"


class Arg:
    """argparse's `add_argument` arguments for an option (the same for the CLI and the magics)."""

    __slots__ = ("flags", "kwargs")

    def __init__(self, *flags: str, **kwargs: object) -> None:
        self.flags = flags
        self.kwargs = kwargs


class Option:
    """One job option; see the module's docstring for what each attribute serves."""

    __slots__ = ("name", "default", "types", "also", "group", "doc", "schema", "arg", "cli", "magic", "many",
                 "file", "widget", "key", "invert", "spec", "required")

    def __init__(self, name: str, default: object = None, *, types: tuple[str, ...] = (), also: tuple[str, ...] = (),
                 group: str | None = None, doc: str | None = None, schema: dict | None = None,
                 arg: Arg | None = None, cli: Arg | None | bool = True, magic: Arg | None | bool = True,
                 many: str | None = None, file: str | None = None, widget: tuple | None = None,
                 key: str | None = None, invert: bool = False, spec: bool = True, required: bool = False) -> None:
        self.name = name  # the JobSpec field, and the REST body's key
        self.default = default  # a list or dict default is copied for each spec
        self.types = types  # JSON types of the REST body's value, as documented ("null": may be left out)
        self.also = also  # JSON types accepted besides (a lone reference for a list of them, ...)
        self.group = group  # the REST body's object holding it ("resources", "gc_policy"); top level too
        self.doc = doc  # the REST description
        self.schema = schema  # extra JSON schema keywords (enum, items, minimum, ...), or a whole schema
        self.arg = arg  # the command line's and the magics' argument
        self.cli = arg if cli is True else cli  # the CLI's, when it differs (None: not on the CLI)
        self.magic = arg if magic is True else magic  # the magics', when it differs (None: not there)
        self.many = many  # "append": repeat the flag; "words": the magics also take several words after it
        self.file = file  # "json", "manifest" or "text": a face gives the path of a file holding it
        self.widget = widget  # (kind, label, hint) in the job form, or None
        self.key = key or name  # the face's name of it (argparse's dest, the options dict's key)
        self.invert = invert  # the face's flag says the opposite (--larger-is-better)
        self.spec = spec  # a JobSpec field (requirements_file is only the REST body's)
        self.required = required

    def fresh_default(self) -> object:
        """The default, a new list or dict each time."""
        return type(self.default)(self.default) if isinstance(self.default, (list, dict)) else self.default

    def __repr__(self) -> str:
        return f"<Option {self.name}>"


def _count(name: str, best: str, of: str, default: int) -> Option:
    """A GC policy count: keep the `best` (best, latest) N checkpoints `of` (the job, each worker)."""
    return Option(name, default, types=("integer", "null"), group="gc_policy",
                  schema={"minimum": 0, "maximum": MAX_COUNT},
                  doc=f"Keep the {best} N {'checkpoints ' if of == 'the job' else ''}of {of} (default {default}).",
                  arg=Arg("--" + name.replace("_", "-"), metavar="N",
                          help=f"keep the N {best} checkpoints of {of} (default {default})"))


OPTIONS: tuple[Option, ...] = (
    Option("type", types=("string",), schema={"enum": list(JOB_TYPES)}, required=True,
           arg=Arg("type", choices=JOB_TYPES), magic=None, widget=("toggle", "Type", "")),
    Option("name", types=("string",), required=True, doc="The job's name; outputs are named 'Job - NAME [Worker N]'.",
           arg=Arg("name", metavar="NAME"),
           magic=Arg("--name", metavar="NAME",
                     help="the job's name (default: the notebook folder's name and the type)"),
           widget=("text", "Name", "")),
    Option("command", types=("string",), required=True,
           doc="A shell command, or the path of a script in the working folder (a .py script runs with the job's "
               "Python).",
           arg=Arg("--command", required=True, metavar="CMD",
                   help="a shell command, or a script path, run in the current folder"),
           magic=None, widget=("text", "Command", "python train.py")),
    Option("workdir", types=("string", "null"),
           doc="The working folder, relative to the server's root_dir (default: root_dir); outside it: 403.",
           arg=Arg("--workdir", metavar="DIR", help="working folder (default: the current folder)"), magic=None),
    Option("gpus", 0, types=("integer", "null"), group="resources", schema={"minimum": 0},
           doc="Whole GPUs; more than the host has: 400.",
           arg=Arg("--gpus", default=0, metavar="N", help="GPUs per worker (default 0)"),
           widget=("count", "GPUs", "")),
    Option("cpu", types=("number", "string", "null"), group="resources",
           doc="CPU cores (the worker is pinned to ceil(cpu) cores).",
           arg=Arg("--cpu", metavar="F", help="CPU cores per worker (pinned to ceil(F) cores)"),
           widget=("number", "CPU", "cores per worker; 0: any")),
    Option("memory", types=("integer", "string", "null"), also=("number",), group="resources",
           doc="Memory limit: bytes or a number with K, M, G or T (SI), e.g. '512M'.",
           arg=Arg("--memory", metavar="SIZE", help="memory limit per worker: 512M, 8G (SI units; 8Gi: 2^30)"),
           widget=("text", "Memory", "8G (empty: no limit)")),
    Option("model", types=("string", "null"), doc="One model reference (NAME, NAME:vN, NAME:ALIAS, id).",
           arg=Arg("--model", metavar="REF", help="a model to attach (ML_MODEL_PATH)"), widget=("choice", "Model", "")),
    Option("checkpoints", [], types=("array",), also=("string",), schema={"items": {"type": "string"}},
           doc="Checkpoint references.", many="words",
           arg=Arg("--checkpoint", metavar="REF", help="a checkpoint to attach under ML_CHECKPOINT_PATH (repeatable)"),
           widget=("choices", "Checkpoints", "")),
    Option("public_checkpoints", [], types=("array",), schema={"items": {"type": "string"}},
           doc="Public checkpoint ids, fetched on first use.", many="words",
           arg=Arg("--public-checkpoint", metavar="ID",
                   help="a public checkpoint id to attach under ML_CHECKPOINT_PATH (repeatable)")),
    Option("data", [], types=("array",), also=("string",), schema={"items": {"type": "string"}},
           doc="Dataset references.", many="words",
           arg=Arg("--data", metavar="REF", help="a dataset to attach under ML_DATA_PATH (repeatable)"),
           widget=("choices", "Datasets", "")),
    Option("data_manifest", types=("array", "object", "string", "null"), file="manifest", schema={
        "description": "A list of URLs or {url, path} objects, an object {path: url}, or the path of a JSON / "
                       "JSON-lines file; each URL is fetched into ML_DATA_PATH/<path>.",
        "oneOf": [{"type": "array", "items": {"oneOf": [
            {"type": "string"},
            {"type": "object", "required": ["url"],
             "properties": {"url": {"type": "string"}, "path": {"type": "string"}}}]}},
            {"type": "object", "additionalProperties": {"type": "string"}}, {"type": "string"}, {"type": "null"}]},
        arg=Arg("--data-manifest", metavar="FILE",
                help='JSON (lines) of {"url": ..., "path": ...} to fetch into ML_DATA_PATH'),
        widget=("text", "Manifest", "a data manifest file (optional)")),
    Option("params", {}, types=("object", "string"), file="json",
           doc="Static parameters (an object, or the path of a JSON file).",
           arg=Arg("--params", metavar="FILE", help="a JSON file of static parameters")),
    Option("hyperparameters", {}, types=("object", "string"), file="json",
           doc="List values form a grid (one worker per combination), the others are static; an object, or the path "
               "of a JSON file.",
           arg=Arg("--hyperparams", metavar="FILE",
                   help="a JSON file of parameters; list values form a grid, one worker per combination"),
           widget=("json", "Hyper-params", '{"lr": 0.01, "degree": [3, 4, 5]}  (lists form a grid)')),
    Option("requirements", types=("string", "null"), file="text",
           doc="The text of a requirements.txt: the job runs in a virtual environment built from it (cached).",
           arg=Arg("--requirements", metavar="FILE", help="build (and cache) a virtual environment from this file")),
    Option("requirements_file", types=("string", "null"), spec=False,
           doc="The path of a requirements.txt (instead of 'requirements')."),
    Option("python", types=("string", "null"), doc="The interpreter to run with (default: the server's)."),
    Option("output", "checkpoint", types=("string",),
           doc="checkpoint (default), model, or an fsspec URL to copy the output to.",
           arg=Arg("--output-type", default="checkpoint", metavar="checkpoint|model|URL",
                   help="what ML_OUTPUT_PATH becomes (default checkpoint)"),
           widget=("choice", "Output", "s3://bucket/folder")),
    Option("metric", types=("string", "null"), doc="The reported metric that ranks checkpoints.",
           arg=Arg("--metric", metavar="NAME", help="the metric that ranks checkpoints (searcher metric)")),
    Option("smaller_is_better", True, types=("boolean",), key="larger_is_better", invert=True,
           arg=Arg("--larger-is-better", action="store_true", help="larger metric values are better")),
    _count("save_experiment_best", "best", "the job", 0),
    _count("save_trial_best", "best", "each worker", 1),
    _count("save_trial_latest", "latest", "each worker", 1),
    Option("env", {}, types=("object",), schema={"additionalProperties": {"type": "string"}}, many="append",
           arg=Arg("--env", metavar="KEY=VALUE", help="an extra environment variable (repeatable)")),
    Option("executor", types=("string", "null"), schema={"enum": [*EXECUTORS, None]},
           doc="Where the workers run: local (this host's GPUs) or ray (the Ray cluster at RAY_ADDRESS); default: "
               "the server's executor setting, else $JUPYTER_ARTIFACTS_EXECUTOR, else local.",
           arg=Arg("--executor", choices=EXECUTORS,
                   help="where the workers run: local (this host's GPUs) or ray (the Ray cluster at $RAY_ADDRESS); "
                        "default $JUPYTER_ARTIFACTS_EXECUTOR, else local")),
    Option("stop_grace", 10.0, types=("number",), doc="Seconds between SIGTERM and SIGKILL on stop (default 10).",
           arg=Arg("--stop-grace", type=float, metavar="SECONDS", help="SIGTERM to SIGKILL delay on stop (default 10)"),
           magic=None),
    # Not in the REST body yet: the panel's types are generated from openapi.json (labextension/).
    Option("resume", doc="Continue from an earlier run: true for the newest earlier job of this name, or a job's "
                         "id or name; each worker gets the last checkpoint its worker there saved.",
           arg=Arg("--resume", nargs="?", const=True, metavar="JOB",
                   help="continue each worker from the last checkpoint its worker of JOB saved "
                        "(default: the newest earlier job of this name)")),
)
BY_NAME = {o.name: o for o in OPTIONS}
SPEC_FIELDS = tuple(o for o in OPTIONS if o.spec)
GROUPS = {"resources": "Per worker.", "gc_policy": None}  # the REST body's objects, with their description


def arguments(face: str) -> list[tuple[tuple[str, ...], dict]]:
    """(flags, keyword arguments) of each argparse argument `face` (CLI or MAGIC) takes, in order."""
    found = []
    for option in OPTIONS:
        arg = option.cli if face == CLI else option.magic
        if arg is None:
            continue
        kwargs = dict(arg.kwargs)
        if arg.flags[0].startswith("-"):
            kwargs["dest"] = option.key
        if option.many:
            kwargs.update(action="append", default=[])
            if option.many == "words" and face == MAGIC:
                kwargs.update(action="extend", nargs="+")
        found.append((arg.flags, kwargs))
    return found


def add_arguments(parser: object, face: str = CLI) -> None:
    """Add the job options to an argparse parser."""
    for flags, kwargs in arguments(face):
        parser.add_argument(*flags, **kwargs)


def parse_env(pairs: list[str]) -> dict[str, str]:
    """KEY=VALUE words (--env, repeatable) as a dict."""
    from ..errors import InvalidInput

    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"Invalid --env {pair!r}: use KEY=VALUE.")
        env[key] = value
    return env


def from_args(args: object, face: str = CLI) -> dict[str, object]:
    """The options an argparse namespace holds (what `arguments(face)` declared), by option key; the
    job's type, name and command are left to the face."""
    found = {}
    for option in OPTIONS:
        arg = option.cli if face == CLI else option.magic
        if arg is None or option.name in ("type", "name", "command"):
            continue
        value = getattr(args, option.key)
        found[option.key] = parse_env(value) if option.name == "env" else value
    return found


__all__ = ["BY_NAME", "CLI", "EXECUTORS", "GROUPS", "JOB_TYPES", "MAGIC", "OPTIONS", "REST", "SPEC_FIELDS", "Arg", "Option",
           "add_arguments", "arguments", "from_args", "parse_env"]
