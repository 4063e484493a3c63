"""User-facing errors shared by every face.

Each error carries the HTTP status a REST handler should answer with, so the CLI, the server,
the magics and the SDK all report the same message for the same mistake.
"""

from __future__ import annotations


class ArtifactsError(Exception):
    """A mistake the user can fix; the message says how. Never shown with a traceback."""

    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        return {"message": self.message, **self.details}


class InvalidInput(ArtifactsError):
    status = 400


class Forbidden(ArtifactsError):
    status = 403


class NotFound(ArtifactsError):
    status = 404


class Conflict(ArtifactsError):
    status = 409


class InUse(Conflict):
    """Deleting or collecting something a job or a kernel holds."""


class LimitExceeded(ArtifactsError):
    status = 413


class QuotaExceeded(ArtifactsError):
    status = 507


class Unavailable(ArtifactsError):
    """The store's root (a bucket, a network folder) could not be reached: try again later."""

    status = 503


class DiskFull(ArtifactsError):
    """The disk under the store (or a destination) has no space left: nothing was published."""

    status = 507


QUOTE_LIMIT = 100


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """`repr` of user input, cut to about `limit` characters: an error message (and the server's
    log line) never repeats input of any size."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"
