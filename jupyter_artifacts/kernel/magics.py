"""IPython magics: `%load_ext jupyter_artifacts`, then `%attach_checkpoint`, `%save_checkpoint`, `%%train`...

Loading imports nothing but IPython's own magic machinery; the store, the jobs and ipywidgets
are imported by the first magic that needs them. A mistake the user can fix is shown as one red
line, without a traceback, and stops a "Run all" like any failing cell.
"""

from __future__ import annotations

import argparse
import functools
import sys

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

RED, RESET = "\x1b[31m", "\x1b[0m"


class ArtifactsMagicError(Exception):
    """A user error raised by a magic: IPython shows `_render_traceback_`, one red line, no traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"{RED}{self}{RESET}"]


def user_errors(func):
    """Turn the core's ArtifactsError into ArtifactsMagicError (one line, no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..errors import ArtifactsError

        try:
            return func(*args, **kwargs)
        except ArtifactsError as exc:
            raise ArtifactsMagicError(exc.message) from None

    return wrapper


def _actions():
    from . import actions

    return actions.session()


def _progress(label: str):
    from .display import ProgressBar

    return ProgressBar(label)


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


def _arguments(*options):
    """Several `@argument`s as one decorator."""

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _save_arguments(kind: str, default_folder: str):
    """The arguments of %save_checkpoint, %save_model and %save_dataset: [FOLDER] NAME [--alias ALIAS]."""
    return _arguments(
        argument("folder", nargs="?", metavar="FOLDER",
                 help=f"the notebook's folder to save: {default_folder} (default), output, or a path"),
        argument("name", metavar="NAME", help=f"the {kind}'s name; a new version if it exists"),
        argument("extra", nargs="*", default=[], help=argparse.SUPPRESS),  # more words: a name with spaces, unquoted
        argument("--alias", action="append", default=[], metavar="ALIAS", help="add an alias (repeatable)"),
    )


def _job_arguments(func):
    """The options of `jupyter artifacts job create` (the option table's, jobs/options.py) with the
    cell magics' own: --shell, --wait, --follow. Shared by %%train and %%infer."""
    from ..jobs.options import MAGIC, arguments

    return _arguments(
        *(argument(*flags, **kwargs) for flags, kwargs in arguments(MAGIC)),
        argument("--shell", action="store_true", help="the cell is a shell script, not Python"),
        argument("--wait", action="store_true", help="block until the job ends"),
        argument("--follow", action="store_true", help="print the logs as they come until the job ends"),
    )(func)


def in_kernel() -> bool:
    """True in a Jupyter kernel, where widgets render and update."""
    from IPython import get_ipython

    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


def follow_logs(job_id: str, worker: int | None = None) -> str:
    """Print a job's log as it grows until the job ends; returns its final state."""
    session = _actions()
    for text in session.follow_job(job_id, worker=worker):
        sys.stdout.write(text)
        sys.stdout.flush()
    return session.get_job(job_id).state


@magics_class
class ArtifactsMagics(Magics):
    """Models, checkpoints, datasets and jobs from the notebook."""

    # -- attach ----------------------------------------------------------------------------
    def _attach(self, kind: str, ref: str, public: bool, as_name: str | None) -> None:
        from .actions import FOLDERS, PATH_ENV

        with _progress(f"Attaching {ref}") as bar:
            attachment = _actions().attach(kind, ref, public=public, as_name=as_name, progress=bar)
        where = f"{FOLDERS[kind]}/{attachment.name}"
        source = f"public {kind} {attachment.public_id} ({attachment.reference})" if attachment.public_id \
            else f"{kind} {attachment.reference}"
        how = "already there" if attachment.reused else "materialized"
        print(f"Attached {source} at {attachment.path} ({where}, {how}); "
              f"{PATH_ENV[kind]}={_env(PATH_ENV[kind])}")

    @magic_arguments()
    @argument("ref", metavar="REF", help="NAME, NAME:vN, NAME:ALIAS or an id; with --public, a public checkpoint id")
    @argument("--public", action="store_true", help="REF is a checkpoint of the public catalog")
    @argument("--as", dest="as_name", metavar="NAME", help="the folder name under checkpoint/ (default: its name)")
    @line_magic
    @user_errors
    def attach_checkpoint(self, line: str) -> None:
        """Attach a checkpoint under the notebook's checkpoint/<name>/ and set ML_CHECKPOINT_PATH.

        The kernel holds the checkpoint while it lives: it cannot be deleted meanwhile.
        If checkpoint/<name>/ exists already it is used when it holds exactly this checkpoint,
        and refused otherwise. Detach with %detach_checkpoint NAME.
        """
        args = parse_argstring(self.attach_checkpoint, line)
        self._attach("checkpoint", args.ref, args.public, args.as_name)

    @magic_arguments()
    @argument("ref", metavar="REF", help="NAME, NAME:vN, NAME:ALIAS or an id")
    @argument("--as", dest="as_name", metavar="NAME", help="the folder name under models/ (default: its name)")
    @line_magic
    @user_errors
    def attach_model(self, line: str) -> None:
        """Attach a model under the notebook's models/<name>/ and set ML_MODEL_PATH."""
        args = parse_argstring(self.attach_model, line)
        self._attach("model", args.ref, False, args.as_name)

    @magic_arguments()
    @argument("ref", metavar="REF", help="NAME, NAME:vN, NAME:ALIAS or an id")
    @argument("--as", dest="as_name", metavar="NAME", help="the folder name under data/ (default: its name)")
    @line_magic
    @user_errors
    def attach_dataset(self, line: str) -> None:
        """Attach a dataset under the notebook's data/<name>/ and set ML_DATA_PATH."""
        args = parse_argstring(self.attach_dataset, line)
        self._attach("dataset", args.ref, False, args.as_name)

    def _detach(self, kind: str, name: str, keep: bool) -> None:
        attachment = _actions().detach(kind, name, keep_files=keep)
        kept = f"; its files stay in {attachment.path}" if keep else f"; removed {attachment.path}"
        print(f"Detached {kind} {attachment.reference} ({attachment.name}){kept}")

    @magic_arguments()
    @argument("name", metavar="NAME", help="the name it was attached as")
    @argument("--keep", action="store_true", help="keep the files in the notebook's folder")
    @line_magic
    @user_errors
    def detach_checkpoint(self, line: str) -> None:
        """Release an attached checkpoint (it may be deleted again) and remove its folder."""
        args = parse_argstring(self.detach_checkpoint, line)
        self._detach("checkpoint", args.name, args.keep)

    @magic_arguments()
    @argument("name", metavar="NAME", help="the name it was attached as")
    @argument("--keep", action="store_true", help="keep the files in the notebook's folder")
    @line_magic
    @user_errors
    def detach_model(self, line: str) -> None:
        """Release an attached model and remove its folder."""
        args = parse_argstring(self.detach_model, line)
        self._detach("model", args.name, args.keep)

    @magic_arguments()
    @argument("name", metavar="NAME", help="the name it was attached as")
    @argument("--keep", action="store_true", help="keep the files in the notebook's folder")
    @line_magic
    @user_errors
    def detach_dataset(self, line: str) -> None:
        """Release an attached dataset and remove its folder."""
        args = parse_argstring(self.detach_dataset, line)
        self._detach("dataset", args.name, args.keep)

    @magic_arguments()
    @argument("kind", nargs="?", metavar="KIND", help="checkpoint, model or dataset (default: all)")
    @line_magic
    @user_errors
    def attached(self, line: str) -> None:
        """List what this kernel has attached: kind, name, reference and folder."""
        from .display import Table

        kind = parse_argstring(self.attached, line).kind
        if kind:
            from ..store.names import check_kind

            check_kind(kind)
        rows = [(a.kind, a.name, a.reference, a.path) for a in _actions().attachments(kind)]
        if not rows:
            print("Nothing is attached in this kernel.")
            return
        _display(Table(["KIND", "NAME", "REFERENCE", "PATH"], rows))

    # -- save ------------------------------------------------------------------------------
    def _save(self, kind: str, args, default_folder: str) -> None:
        from ..errors import InvalidInput

        if args.extra:
            raise InvalidInput(f"Give at most a folder and a name, e.g. `output my-{kind}`; quote names with spaces.")
        folder = args.folder or default_folder
        with _progress(f"Saving {folder}/") as bar:
            artifact = _actions().save(kind, folder, args.name, progress=bar, aliases=args.alias)
        from .display import count, size

        print(f"Saved {folder.rstrip('/')}/ as {kind} {artifact.reference} "
              f"({count(artifact.file_count, 'file')}, {size(artifact.size)}); id {artifact.id}")

    @magic_arguments()
    @_save_arguments("checkpoint", "models")
    @line_magic
    @user_errors
    def save_checkpoint(self, line: str) -> None:
        """Save a folder of the notebook (models/ by default, or output/) as a new checkpoint version.

        Examples: %save_checkpoint my-checkpoint    %save_checkpoint output my-checkpoint
        The checkpoints, models and datasets attached in this kernel are recorded as its inputs.
        """
        self._save("checkpoint", parse_argstring(self.save_checkpoint, line), "models")

    @magic_arguments()
    @_save_arguments("model", "models")
    @line_magic
    @user_errors
    def save_model(self, line: str) -> None:
        """Save a folder of the notebook (models/ by default, or output/) as a new model version."""
        self._save("model", parse_argstring(self.save_model, line), "models")

    @magic_arguments()
    @_save_arguments("dataset", "data")
    @line_magic
    @user_errors
    def save_dataset(self, line: str) -> None:
        """Save a folder of the notebook (data/ by default, or output/) as a new dataset version."""
        self._save("dataset", parse_argstring(self.save_dataset, line), "data")

    # -- list ------------------------------------------------------------------------------
    @magic_arguments()
    @argument("kind", nargs="?", metavar="KIND", help="checkpoint, model or dataset (default: all)")
    @argument("--filter", metavar="TEXT", help="names containing TEXT, or an alias or id")
    @argument("--name", metavar="NAME", help="only the versions of this name")
    @argument("--limit", type=int, default=100, help="at most this many rows (default 100)")
    @line_magic
    @user_errors
    def artifacts(self, line: str) -> None:
        """Show the store's artifacts as a table, newest first."""
        from .display import artifacts_table

        args = parse_argstring(self.artifacts, line)
        kind = args.kind.rstrip("s") if args.kind and args.kind.endswith("s") else args.kind
        found, total = _actions().list_artifacts(kind, query=args.filter, limit=args.limit, name=args.name)
        if not found:
            print(f"No {kind or 'artifact'}s yet." if not args.filter and not args.name else "Nothing matches.")
            return
        _display(artifacts_table(found, total))

    # -- jobs ------------------------------------------------------------------------------
    def _run_job(self, type: str, args, cell: str) -> None:
        from . import jobview

        from ..jobs.options import MAGIC, from_args

        session = _actions()
        job = session.run_script(type, cell or "", name=args.name, shell=args.shell, **from_args(args, MAGIC))
        print(jobview.started_line(job), flush=True)
        if args.follow:
            try:
                follow_logs(job.id)
            except KeyboardInterrupt:
                print(f"Stopped following; the job goes on. Stop it with %stop_job {job.id[:12]}")
                return
            self._finish(session.get_job(job.id))
            return
        monitor = None
        if in_kernel():
            from .widgets import JobMonitor

            monitor = JobMonitor(job)
            _display(monitor)
        if not args.wait:
            if monitor is None:
                print(jobview.status_line(job))
            return
        try:
            final = session.wait_job(job.id)
        except KeyboardInterrupt:
            print(f"Stopped waiting; the job goes on. Stop it with %stop_job {job.id[:12]}")
            return
        if monitor is not None:
            monitor.refresh()
        self._finish(final)

    def _finish(self, job) -> None:
        from . import jobview

        if job.state != "finished":
            tail = jobview.log_tail(_actions(), job.id, lines=15)
            if tail:
                print(tail)
            raise ArtifactsMagicError(jobview.summary_line(job))
        print(jobview.summary_line(job))

    @magic_arguments("%train")  # the usage line reads %%train
    @_job_arguments
    @cell_magic
    @user_errors
    def train(self, line: str, cell: str) -> None:
        """Run the cell as a training job on this host's GPUs; returns at once with a live view.

        The cell's body is the job's Python script (with --shell, a shell script), run in the
        notebook's folder with ML_CHECKPOINT_PATH, ML_DATA_PATH, ML_MODEL_PATH and ML_OUTPUT_PATH
        set; what it writes to ML_OUTPUT_PATH becomes a checkpoint (or a model, --output-type).
        """
        args = parse_argstring(self.train, line)
        self._run_job("training", args, cell)

    @magic_arguments("%infer")
    @_job_arguments
    @cell_magic
    @user_errors
    def infer(self, line: str, cell: str) -> None:
        """Run the cell as an inference job on this host's GPUs; returns at once with a live view.

        The same options as %%train; the cell's body is the job's script.
        """
        args = parse_argstring(self.infer, line)
        self._run_job("inference", args, cell)

    @magic_arguments()
    @argument("--state", metavar="STATE", help="only jobs in this state (queued, running, finished, failed, ...)")
    @argument("--limit", type=int, default=50, help="at most this many (default 50)")
    @line_magic
    @user_errors
    def jobs(self, line: str) -> None:
        """Show the jobs of this store, newest first."""
        from . import jobview

        args = parse_argstring(self.jobs, line)
        found = _actions().list_jobs(state=args.state, limit=args.limit)
        if not found:
            print("No jobs yet. Start one with a %%train cell." if not args.state else f"No {args.state} jobs.")
            return
        _display(jobview.jobs_table(found))

    @magic_arguments()
    @argument("job", metavar="JOB", help="a job's id (or its start) or name")
    @line_magic
    @user_errors
    def job(self, line: str) -> None:
        """Show one job: its state, workers, metrics and outputs (a live view in Jupyter)."""
        from . import jobview

        args = parse_argstring(self.job, line)
        found = _actions().get_job(args.job)
        if in_kernel():
            from .widgets import JobMonitor

            _display(JobMonitor(found))
        else:
            print(jobview.describe(found))

    @magic_arguments()
    @argument("job", metavar="JOB", help="a job's id (or its start) or name")
    @argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
    @argument("--worker", type=int, metavar="N", help="only worker N")
    @line_magic
    @user_errors
    def job_logs(self, line: str) -> None:
        """Print a job's logs (build, worker output, state changes)."""
        args = parse_argstring(self.job_logs, line)
        session = _actions()
        job = session.get_job(args.job)
        if args.follow:
            try:
                follow_logs(job.id, args.worker)
            except KeyboardInterrupt:
                print("Stopped following; the job goes on.")
            return
        for text in session.jobs.logged(job.id, worker=args.worker):
            sys.stdout.write(text)
        sys.stdout.flush()

    @magic_arguments()
    @argument("job", metavar="JOB", help="a job's id (or its start) or name")
    @argument("--save-output", action="store_true", help="still save what the workers wrote to ML_OUTPUT_PATH")
    @argument("--wait", action="store_true", help="return once the job has ended")
    @line_magic
    @user_errors
    def stop_job(self, line: str) -> None:
        """Stop a job: its workers get SIGTERM, then SIGKILL after the grace period."""
        args = parse_argstring(self.stop_job, line)
        session = _actions()
        job = session.stop_job(args.job, save_output=args.save_output)
        if args.wait:
            job = session.wait_job(job.id, timeout=float(job.spec.get("stop_grace") or 10) + 60)
        print(f"Stopping job {job.name!r} ({job.id[:12]}): {job.state}")

    @magic_arguments()
    @argument("job", metavar="JOB", help="a job's id (or its start) or name")
    @argument("--worker", type=int, metavar="N", help="only worker N (default: every worker with a kept output)")
    @line_magic
    @user_errors
    def save_job_output(self, line: str) -> None:
        """Save again the output a worker kept because saving it failed."""
        args = parse_argstring(self.save_job_output, line)
        from ..views import output_lines

        job = _actions().save_job_output(args.job, worker=args.worker)
        print("\n".join(output_lines(job, args.worker)))

    @magic_arguments()
    @line_magic
    @user_errors
    def gpus(self, line: str) -> None:
        """Show this host's GPUs and which job holds each."""
        from . import jobview

        parse_argstring(self.gpus, line)
        info = _actions().gpus()
        if not info["devices"]:
            print(f"No GPUs ({info['source']}). Set JUPYTER_ARTIFACTS_GPUS=fake:N to simulate N devices.")
            return
        _display(jobview.gpus_table(info))


def _env(name: str) -> str:
    import os

    return os.environ.get(name, "")


def load(ipython) -> None:
    ipython.register_magics(ArtifactsMagics)


def unload(ipython) -> None:
    from . import actions

    if actions._default is not None:
        actions._default.detach_all()
    print("jupyter_artifacts unloaded; attached artifacts were released.", file=sys.stderr)
