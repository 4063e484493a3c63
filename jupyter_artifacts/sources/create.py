"""Creating an artifact from a validated source: reserve, fetch into staging, extract, publish."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import ArtifactsError, InvalidInput, NotFound
from ..store import Artifact, Store
from ..store.names import check_kind, check_name
from . import archives, git, kaggle
from .fetch import Retries, explain, fetch_tree
from .filesystems import missing_package
from .progress import Progress, Tracker
from .spec import SourceSpec

STAGING_FOLDER = "staging"


@contextmanager
def staging(store: Store) -> Iterator[str]:
    """A private folder on this machine, next to the catalog; always removed afterwards."""
    parent = os.path.join(store.state_dir, STAGING_FOLDER)
    os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="fetch-", dir=parent)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def preflight(spec: SourceSpec) -> None:
    """What can be refused before a version is reserved: a missing package, missing credentials."""
    if spec.type == "kaggle":
        kaggle.check_ready(spec)
        return
    if spec.type == "git":
        return
    problem = missing_package(spec)
    if problem:
        if spec.type == "hf" and spec.inferred:
            problem = (f"{spec.path!r} is not a local file or folder, so it was taken as a Hugging Face "
                       f"repository; {problem}")
        raise InvalidInput(problem)


def fetch_into(spec: SourceSpec, dest: str, work: str, tracker: Tracker, *,
               check_total: Callable[[int], None] | None = None, limit: int | None = None,
               include: list[str] | None = None, exclude: list[str] | None = None,
               extract: bool = True, max_ratio: object = archives.DEFAULT_RATIO, retries: Retries = Retries()) -> dict:
    """Fill the folder `dest` from a source (any type); `work` is scratch space on the same disk;
    `max_ratio` and `retries` come from the store's settings.

    Returns details to add to the artifact's source record (e.g. a git commit).
    """
    if spec.type == "git":
        return git.clone(spec, dest, retries=retries)
    if spec.type == "kaggle":
        kaggle.fetch(spec, dest, os.path.join(work, "kaggle"), check_total=check_total, limit=limit,
                     max_ratio=max_ratio)
        return {}
    if spec.type == "local" and spec.archive and extract:
        archives.extract(spec.local_path, dest, check_total=check_total, limit=limit, max_ratio=max_ratio)
        return {}
    if spec.archive and extract:
        download = os.path.join(work, "download")
        fetch_tree(spec, download, tracker, retries=retries)
        fetched = _only_file(download)
        tracker.phase = "extracting"
        archives.extract(fetched, dest, check_total=check_total, limit=limit, name=spec.filename,
                         max_ratio=max_ratio)
        return {}
    fetch_tree(spec, dest, tracker, include=include, exclude=exclude, check_total=check_total, retries=retries)
    return {}


def _only_file(folder: str) -> str:
    names = os.listdir(folder)
    if len(names) != 1 or not os.path.isfile(os.path.join(folder, names[0])):
        raise NotFound("The archive path names a folder, not a file; end it with '/' to fetch the folder as it is.")
    return os.path.join(folder, names[0])


def create_from_spec(store: Store, kind: str, name: str, spec: SourceSpec, *, aliases: list[str] = (),
                     refs: list[str] = (), metadata: dict | None = None, created_by: str | None = None,
                     progress: Progress | None = None, include: list[str] | None = None,
                     exclude: list[str] | None = None, source_record: dict | None = None) -> Artifact:
    """Create a new version of `name` from a validated source."""
    check_kind(kind)
    check_name(name)
    source = source_record or spec.record()
    if spec.type == "local" and not os.path.lexists(spec.local_path):
        raise NotFound(f"No such file or folder: {spec.local_path}")
    if spec.type == "local" and not spec.archive and not include and not exclude:
        return store.create(kind, name, spec.local_path, aliases=list(aliases), refs=list(refs),
                            metadata=metadata, source=source, created_by=created_by, progress=progress)
    preflight(spec)
    limit, max_ratio = store.settings.max_size.get(kind), store.settings.max_archive_ratio
    retries = Retries.of(store.settings)

    def check_total(total: int) -> None:
        store.check_size(kind, total)

    if spec.type == "local":
        # Nothing to download: an unsafe or oversized archive is refused before a version is reserved.
        with staging(store) as work:
            content = os.path.join(work, "content")
            if spec.archive:
                archives.extract(spec.local_path, content, check_total=check_total, limit=limit,
                                 max_ratio=max_ratio)
            else:
                fetch_into(spec, content, work, Tracker(kind=kind), include=include, exclude=exclude,
                           max_ratio=max_ratio, retries=retries)
            artifact = store.begin(kind, name, source=source, metadata=metadata, refs=list(refs),
                                   aliases=list(aliases), created_by=created_by)
            try:
                return store.store_folder(artifact, content, progress)
            except BaseException:
                store.abandon(artifact)
                raise

    artifact = store.begin(kind, name, state="downloading", source=source, metadata=metadata, refs=list(refs),
                           aliases=list(aliases), created_by=created_by)
    return run_fetch(store, artifact, progress, lambda content, work, tracker: fetch_into(
        spec, content, work, tracker, check_total=check_total, limit=limit, include=include, exclude=exclude,
        max_ratio=max_ratio, retries=retries),
        explain_for=spec)


def run_fetch(store: Store, artifact: Artifact, progress: Progress | None,
              fill: Callable[[str, str, Tracker], dict | None], explain_for: SourceSpec | None = None) -> Artifact:
    """Fill a reserved (downloading) artifact and publish it; on any failure mark it failed with the reason."""
    limit = store.settings.max_size.get(artifact.kind)
    try:
        with staging(store) as work:
            content = os.path.join(work, "content")
            os.makedirs(content)
            tracker = Tracker(store, artifact.id, progress, limit=limit, kind=artifact.kind)
            with tracker:
                extra = fill(content, work, tracker) or {}
                if extra:
                    artifact.source = {**artifact.source, **extra}
                if not os.listdir(content):
                    raise NotFound("The source holds no files; nothing was saved.")
                tracker.phase = "storing"
                result = store.store_folder(artifact, content, _storing(tracker))
            return result
    except BaseException as exc:
        if artifact.state == "ready":
            raise
        if isinstance(exc, Exception):
            error = explain(exc, explain_for) if explain_for is not None else (
                exc if isinstance(exc, ArtifactsError) else ArtifactsError(str(exc) or type(exc).__name__))
            store.fail(artifact, error.message)
            if error is exc:
                raise
            raise error from exc
        store.fail(artifact, "interrupted while fetching; create it again to retry")
        raise


def _storing(tracker: Tracker) -> Progress:
    def update(done_bytes: int, done_files: int, total_bytes: int, total_files: int) -> None:
        with tracker._lock:
            tracker.bytes, tracker.files = done_bytes, done_files
            tracker.total_bytes, tracker.total_files = total_bytes, total_files

    return update
