"""The REST routes, relative to the server's base_url."""

from __future__ import annotations

from .artifacts import (AliasesHandler, AliasHandler, ArchiveHandler, ArtifactHandler, ArtifactsCollectionHandler,
                        DiffHandler, FileHandler, FilesHandler, FindHandler, LineageHandler, LinksHandler)
from .base import API_PREFIX, ArtifactsHandler, NotFoundHandler
from .jobs import (JobGcPolicyHandler, JobHandler, JobLogsHandler, JobMetricsHandler, JobSaveOutputHandler, JobsHandler,
                   JobStopHandler)
from .misc import (GpusHandler, OpenAPIHandler, OperationHandler, OperationsHandler, PublicCheckpointHandler,
                   PublicCheckpointsHandler, StatusHandler)
from .snapshots import SnapshotsHandler

REF = r"(?P<ref>[^/]+)"
JOB = r"(?P<job_id>[^/]+)"


def routes() -> list[tuple[str, type]]:
    api = API_PREFIX
    table = [
        (rf"{api}/artifacts", ArtifactsCollectionHandler),
        (rf"{api}/artifacts/{REF}", ArtifactHandler),
        (rf"{api}/artifacts/{REF}/aliases", AliasesHandler),
        (rf"{api}/artifacts/{REF}/aliases/(?P<alias>[^/]+)", AliasHandler),
        (rf"{api}/artifacts/{REF}/links", LinksHandler),
        (rf"{api}/artifacts/{REF}/lineage", LineageHandler),
        (rf"{api}/artifacts/{REF}/files", FilesHandler),
        (rf"{api}/artifacts/{REF}/files/(?P<path>.+)", FileHandler),
        (rf"{api}/artifacts/{REF}/archive", ArchiveHandler),
        (rf"{api}/artifacts/(?P<a>[^/]+)/diff/(?P<b>[^/]+)", DiffHandler),
        (rf"{api}/find", FindHandler),
        (rf"{api}/snapshots", SnapshotsHandler),
        (rf"{api}/operations", OperationsHandler),
        (rf"{api}/operations/(?P<op_id>[^/]+)", OperationHandler),
        (rf"{api}/public-checkpoints", PublicCheckpointsHandler),
        (rf"{api}/public-checkpoints/(?P<checkpoint_id>[^/]+)", PublicCheckpointHandler),
        (rf"{api}/status", StatusHandler),
        (rf"{api}/gpus", GpusHandler),
        (rf"{api}/jobs", JobsHandler),
        (rf"{api}/jobs/{JOB}", JobHandler),
        (rf"{api}/jobs/{JOB}/stop", JobStopHandler),
        (rf"{api}/jobs/{JOB}/logs", JobLogsHandler),
        (rf"{api}/jobs/{JOB}/metrics", JobMetricsHandler),
        (rf"{api}/jobs/{JOB}/save-output", JobSaveOutputHandler),
        (rf"{api}/jobs/{JOB}/gc-policy", JobGcPolicyHandler),
        (rf"{api}/openapi.json", OpenAPIHandler),
        (rf"{api}/(?P<path>.*)", NotFoundHandler),
    ]
    return table


__all__ = ["API_PREFIX", "ArtifactsHandler", "routes"]
