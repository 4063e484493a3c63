"""How the CLI shows things: JSON for machines, short tables and progress bars for people."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence

from ..store.settings import format_size


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def table(rows: Iterable[Sequence[object]], headers: Sequence[str]) -> str:
    rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else ""


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def size(value: int | None) -> str:
    return format_size(value) if value is not None else ""


class ProgressBar:
    """A tqdm bar of bytes with a files counter; silent when output is not a terminal or is JSON."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None

    def __call__(self, done_bytes: int, done_files: int, total_bytes: int, total_files: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            import shutil

            from tqdm import tqdm

            # a terminal that reports no size (a bare pty) would otherwise hide the bar
            columns, lines = shutil.get_terminal_size()
            self.bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1000,
                            desc=self.label, file=sys.stderr, leave=False, ncols=columns, nrows=lines,
                            postfix=f"{done_files}/{total_files} files")
        self.bar.update(done_bytes - self.bar.n)
        self.bar.set_postfix_str(f"{done_files}/{total_files} files", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
