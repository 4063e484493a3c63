"""Progress of long work (a save, a fetch, a download), one shape for every layer and face.

`Progress` is the callback every long operation takes: (bytes done, files done, bytes total,
files total). `Report` is what is recorded on an artifact being saved or fetched, so that other
processes (`show`, lists, the panel) see it; the REST operations carry the same four counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

Progress = Callable[[int, int, int, int], None]  # (bytes done, files done, bytes total, files total)


@dataclass
class Report:
    """Where a save or a fetch stands; totals are None while unknown (a download not yet listed)."""

    phase: str
    bytes: int
    files: int
    total_bytes: int | None
    total_files: int | None

    def to_dict(self) -> dict:
        return asdict(self)
