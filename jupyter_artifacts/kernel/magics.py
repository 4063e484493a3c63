"""IPython magics: `%load_ext jupyter_artifacts`, then `%attach_checkpoint`, `%save_checkpoint`, `%%train`...

Loading imports nothing but IPython's own magic machinery; the store, the jobs and ipywidgets
are imported by the first magic that needs them. A mistake the user can fix is shown as one red
line, without a traceback, and stops a "Run all" like any failing cell.
"""

from __future__ import annotations

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


def _split_folder_name(words: list[str], default_folder: str) -> tuple[str, str]:
    from ..errors import InvalidInput

    if len(words) == 1:
        return default_folder, words[0]
    if len(words) == 2:
        return words[0], words[1]
    raise InvalidInput("Give at most a folder and a name, e.g. `output my-checkpoint`; quote names with spaces.")


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

    @line_magic
    @user_errors
    def attached(self, line: str) -> None:
        """List what this kernel has attached: %attached [checkpoint|model|dataset]"""
        from .display import Table

        kind = line.strip() or None
        if kind:
            from ..store.names import check_kind

            check_kind(kind)
        rows = [(a.kind, a.name, a.reference, a.path) for a in _actions().attachments(kind)]
        if not rows:
            print("Nothing is attached in this kernel.")
            return
        _display(Table(["KIND", "NAME", "REFERENCE", "PATH"], rows))

    # -- save ------------------------------------------------------------------------------
    def _save(self, kind: str, words: list[str], default_folder: str, aliases: list[str]) -> None:
        folder, name = _split_folder_name(words, default_folder)
        with _progress(f"Saving {folder}/") as bar:
            artifact = _actions().save(kind, folder, name, progress=bar, aliases=aliases)
        from .display import count, size

        print(f"Saved {folder.rstrip('/')}/ as {kind} {artifact.reference} "
              f"({count(artifact.file_count, 'file')}, {size(artifact.size)}); id {artifact.id}")

    @magic_arguments()
    @argument("words", nargs="+", metavar="[FOLDER] NAME",
              help="the folder (models, output or a path; default models) and the checkpoint's name")
    @argument("--alias", action="append", default=[], metavar="ALIAS", help="add an alias (repeatable)")
    @line_magic
    @user_errors
    def save_checkpoint(self, line: str) -> None:
        """Save a folder of the notebook (models/ by default, or output/) as a new checkpoint version.

        Examples: %save_checkpoint my-checkpoint    %save_checkpoint output my-checkpoint
        The checkpoints, models and datasets attached in this kernel are recorded as its inputs.
        """
        args = parse_argstring(self.save_checkpoint, line)
        self._save("checkpoint", args.words, "models", args.alias)

    @magic_arguments()
    @argument("words", nargs="+", metavar="[FOLDER] NAME",
              help="the folder (models, output or a path; default models) and the model's name")
    @argument("--alias", action="append", default=[], metavar="ALIAS", help="add an alias (repeatable)")
    @line_magic
    @user_errors
    def save_model(self, line: str) -> None:
        """Save a folder of the notebook (models/ by default, or output/) as a new model version."""
        args = parse_argstring(self.save_model, line)
        self._save("model", args.words, "models", args.alias)

    @magic_arguments()
    @argument("words", nargs="+", metavar="[FOLDER] NAME",
              help="the folder (data, output or a path; default data) and the dataset's name")
    @argument("--alias", action="append", default=[], metavar="ALIAS", help="add an alias (repeatable)")
    @line_magic
    @user_errors
    def save_dataset(self, line: str) -> None:
        """Save a folder of the notebook (data/ by default) as a new dataset version."""
        args = parse_argstring(self.save_dataset, line)
        self._save("dataset", args.words, "data", args.alias)

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
