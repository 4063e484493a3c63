"""How the CLI shows things: JSON for machines, short tables and progress bars for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence

from ..views import count, size, text_table, when

__all__ = ["ProgressBar", "count", "print_json", "size", "table", "when"]


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def table(rows: Iterable[Sequence[object]], headers: Sequence[str]) -> str:
    return text_table(headers, rows)


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
