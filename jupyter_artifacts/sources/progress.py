"""Download progress: counters shared by fetching threads, shown by `show` a few times a second."""

from __future__ import annotations

import threading

from ..errors import LimitExceeded
from ..progress import Progress, Report
from ..units import format_size


class Tracker:
    """Counts bytes and files; a background thread writes them to the catalog (throttled).

    `limit`, when set, stops a download as soon as more bytes than allowed have arrived, even
    where the total size was not known beforehand.
    """

    def __init__(self, store=None, artifact_id: str | None = None, progress: Progress | None = None,
                 interval: float = 0.25, limit: int | None = None, kind: str = "artifact") -> None:
        self.store = store
        self.artifact_id = artifact_id
        self.progress = progress
        self.interval = interval
        self.limit = limit
        self.kind = kind
        self.phase = "downloading"
        self.bytes = 0
        self.files = 0
        self.total_bytes: int | None = None
        self.total_files: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown: Report | None = None

    # -- counting --------------------------------------------------------------------------
    def set_totals(self, total_bytes: int | None, total_files: int | None) -> None:
        with self._lock:
            self.total_bytes, self.total_files = total_bytes, total_files

    def learn_size(self, size: int) -> None:
        """A single download whose size was not listed announced it."""
        with self._lock:
            if self.total_bytes is None and self.total_files == 1:
                self.total_bytes = size

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            over = self.limit is not None and self.bytes > self.limit
        if over:
            raise LimitExceeded(
                f"This {self.kind} would hold more than {format_size(self.limit)}, the limit for a {self.kind}; "
                "the download was stopped. Fetch a smaller source or raise the limit.",
                size=self.bytes, limit=self.limit)

    def add_file(self) -> None:
        with self._lock:
            self.files += 1

    def snapshot(self) -> Report:
        with self._lock:
            return Report(self.phase, self.bytes, self.files, self.total_bytes, self.total_files)

    # -- reporting -------------------------------------------------------------------------
    def report(self, force: bool = False) -> None:
        state = self.snapshot()
        if state == self._shown and not force:
            return
        self._shown = state
        if self.store is not None and self.artifact_id:
            try:
                self.store.catalog.set_progress(self.artifact_id, state.to_dict())
            except Exception:  # progress is best effort; a busy catalog must not fail the fetch
                pass
        if self.progress:
            total_bytes = state.total_bytes if state.total_bytes is not None else state.bytes
            total_files = state.total_files if state.total_files is not None else state.files
            self.progress(state.bytes, state.files, total_bytes, total_files)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.report()

    def __enter__(self) -> Tracker:
        self.report(force=True)
        self._thread = threading.Thread(target=self._run, name="artifacts-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.report()
