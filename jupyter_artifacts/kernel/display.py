"""How the notebook shows things: tables (HTML in Jupyter, text elsewhere) and progress bars."""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..views import count, size, text_table, when

__all__ = ["ProgressBar", "Table", "artifacts_table", "count", "size", "when"]


class Table:
    """Rows with headers; Jupyter shows HTML, terminals and plain-text outputs show aligned text."""

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> None:
        self.headers = list(headers)
        self.rows = [["" if v is None else str(v) for v in row] for row in rows]
        self.caption = caption

    def __repr__(self) -> str:
        text = text_table(self.headers, self.rows)
        return f"{text}\n{self.caption}" if self.caption else text

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption style='caption-side:bottom'>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def artifacts_table(artifacts: list, total: int) -> Table:
    rows = [(a.kind, a.reference, ", ".join(a.aliases), a.state, size(a.size), f"{a.file_count:,}",
             when(a.created_at), a.created_by) for a in artifacts]
    caption = f"{len(artifacts)} of {total}" if total > len(artifacts) else ""
    return Table(["KIND", "REFERENCE", "ALIASES", "STATE", "SIZE", "FILES", "CREATED", "BY"], rows, caption)


class ProgressBar:
    """A progress callback drawing a tqdm bar (a widget in Jupyter, text elsewhere) on first call."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self.bar = None

    def __call__(self, done_bytes: int, done_files: int, total_bytes: int, total_files: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1000, desc=self.label,
                            leave=True, mininterval=0.2)
        self.bar.update(done_bytes - self.bar.n)
        self.bar.set_postfix_str(f"{done_files:,}/{total_files:,} files", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
