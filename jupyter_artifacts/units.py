"""Sizes as people type and read them (`512M`, `8G`, `8Gi`, `512 MB`): one parser and one format for
every size the project takes or shows (store limits and quota, job memory, GPU memory).

The rule for "no limit" is the same everywhere: None, an empty string, `none`, `off` and 0 mean
no limit (`parse_size` returns None); anything negative or unreadable is refused with `SIZE_FORMS`.
Only the standard library is imported: a job's supervisor loads this on its way to the worker.
"""

from __future__ import annotations

import math
import re

from .errors import InvalidInput, quote

SIZE_FORMS = ("a number of bytes, or a number with K, M, G, T or P (SI units: 512M = 512,000,000 bytes, "
              "8G; Ki, Mi, Gi, Ti, Pi for powers of 2: 8Gi = 8 x 2^30), or none (also 0) for no limit")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(i?)B?\s*$", re.IGNORECASE)
_SI = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_BINARY = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
_NO_LIMIT = ("", "none", "off", "0")
_SHOWN = (("PB", 10**15), ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3))


def parse_size(value: object, what: str = "size") -> int | None:
    """Bytes from `8G`, `512Mi`, `1.5T`, 1024...; None for no limit (None, '', 'none', 'off', 0).

    `what` names the setting in the error (`Invalid memory '8X': use ...`)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in _NO_LIMIT):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput(f"Invalid {what} {quote(value)}: use {SIZE_FORMS}.")
    if isinstance(value, str):
        match = _SIZE_RE.match(value)
        if not match:
            raise InvalidInput(f"Invalid {what} {quote(value)}: use {SIZE_FORMS}.")
        number, unit, binary = match.groups()
        factor = _BINARY[unit.upper()] if binary and unit else _SI[unit.upper()]
        size = float(number) * factor
    else:
        size = value
    if not math.isfinite(size) or size < 0:
        raise InvalidInput(f"Invalid {what} {quote(value)}: use {SIZE_FORMS}.")
    return int(size) or None


def format_size(size: int | None) -> str:
    """512000000 -> '512 MB', 1500 -> '1.5 KB' (SI units, one decimal only where it is needed);
    None -> 'unlimited'."""
    if size is None:
        return "unlimited"
    for unit, factor in _SHOWN:
        if size >= factor:
            text = f"{size / factor:.1f}"
            return f"{text.removesuffix('.0')} {unit}"
    return f"{size} B"


__all__ = ["SIZE_FORMS", "format_size", "parse_size"]


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_FORMS = "a number of seconds, or a number with ms, s, m, h or d (e.g. 6h, 30s)"


def parse_duration(value: object, what: str = "duration") -> float:
    """'6h' -> 21600.0, '30s' -> 30.0, '0' -> 0.0 (seconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION_RE.match(str(value))
    if not match:
        raise InvalidInput(f"Invalid {what} {quote(str(value))}: use {DURATION_FORMS}.")
    return float(match.group(1)) * _SECONDS[(match.group(2) or "s").lower()]


def parse_flag(value: str, what: str) -> bool:
    """1/true/yes/on or 0/false/no/off."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InvalidInput(f"Invalid {what} {quote(value)}: use 1 or 0 (true or false).")
