"""The Jupyter server extension: one store, one operation manager, the REST routes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Dict, Float, Int, List, TraitError, Type, Unicode, Union, default, validate

from ..errors import ArtifactsError
from ..store import Store, StoreSettings
from ..units import SIZE_FORMS, parse_size
from .handlers import routes
from .operations import OperationManager

_SIZE_HELP = f"A size: {SIZE_FORMS}."


def _size_trait(help_text: str) -> Union:
    return Union([Int(), Unicode()], default_value=None, allow_none=True, help=f"{help_text} {_SIZE_HELP}").tag(config=True)


def checked(trait: str, parse: Any, value: Any) -> Any:
    """What `parse` makes of a setting's value; else the setting's name and why, as a TraitError (the
    server does not start)."""
    try:
        return parse(value)
    except ArtifactsError as exc:
        raise TraitError(f"c.ArtifactsApp.{trait}: {exc.message}") from None


class ArtifactsApp(ExtensionApp):
    """Immutable, content-addressed models, checkpoints and datasets over REST."""

    name = "jupyter_artifacts"
    description = "Immutable, content-addressed models, checkpoints and datasets."
    load_other_extensions = True

    root_url = Unicode(
        help="Where artifacts are stored: a local folder or an fsspec URL (s3://bucket/prefix, ...). "
             "Default: $JUPYTER_ARTIFACTS_ROOT, else the 'artifacts' folder in the Jupyter data directory.",
    ).tag(config=True)

    @default("root_url")
    def _default_root_url(self) -> str:
        from ..store.settings import default_root

        return default_root()

    catalog_path = Unicode(
        None, allow_none=True,
        help="The SQLite catalog file. Default: catalog.sqlite inside a local root; one per root URL "
             "in the Jupyter data directory for remote roots.",
    ).tag(config=True)
    storage_options = Dict(help="Options passed to fsspec when opening a remote root (credentials, endpoint).").tag(config=True)
    max_model_size = _size_trait("Largest model. Default: $JUPYTER_ARTIFACTS_MAX_MODEL_SIZE, else 50G.")
    max_checkpoint_size = _size_trait("Largest checkpoint. Default: $JUPYTER_ARTIFACTS_MAX_CHECKPOINT_SIZE, else 500G.")
    max_dataset_size = _size_trait("Largest dataset. Default: $JUPYTER_ARTIFACTS_MAX_DATASET_SIZE, else no limit.")
    quota = _size_trait("Most bytes the store may hold (all artifacts together). Default: $JUPYTER_ARTIFACTS_QUOTA, else none.")
    max_archive_ratio = Union(
        [Float(), Unicode()], default_value=None, allow_none=True,
        help="How many times its own size an archive (.zip, .tar.gz, ...) may expand to when it is extracted into "
             "an artifact; the entry that goes past it is refused before it is written (archive bombs). "
             "'none' for no limit. Default: $JUPYTER_ARTIFACTS_MAX_ARCHIVE_RATIO, else 200.",
    ).tag(config=True)

    @validate("max_archive_ratio")
    def _check_archive_ratio(self, proposal: dict) -> Any:
        from ..sources.archives import parse_ratio

        checked("max_archive_ratio", parse_ratio, proposal["value"])
        return proposal["value"]

    allowed_local_roots = List(
        Unicode(), default_value=[],
        help="Folders, besides the server's root_dir, from which the server may read local files: sources, "
             "manifests and their lines (local paths, git over file://), and the files and data manifests of jobs "
             "(e.g. ['/data/shared']). Any other local path is refused with 403.",
    ).tag(config=True)
    public_mirror = Unicode(
        None, allow_none=True,
        help="A mirror of the public checkpoints laid out as <id>/... (a local folder or a URL), for servers "
             "that cannot reach the original hosts. Default: $JUPYTER_ARTIFACTS_PUBLIC_MIRROR.",
    ).tag(config=True)
    public_catalog = Unicode(
        None, allow_none=True,
        help="A JSON file of the site's own public checkpoints, added to the built-in ones. "
             "Default: $JUPYTER_ARTIFACTS_PUBLIC_CATALOG.",
    ).tag(config=True)
    gpus = Unicode(
        None, allow_none=True,
        help="GPU inventory: 'auto' (detect with NVML or nvidia-smi), 'none', or 'fake:N' (N pretend GPUs, "
             "for tests and demos). Default: $JUPYTER_ARTIFACTS_GPUS, else 'auto'.",
    ).tag(config=True)
    executor = Unicode(
        None, allow_none=True,
        help="Where jobs' workers run unless a job says: 'local' (this host's GPUs) or 'ray' (the Ray cluster "
             "whose job submission address is $RAY_ADDRESS; the store root must be shared by its nodes). "
             "Default: $JUPYTER_ARTIFACTS_EXECUTOR, else 'local'.",
    ).tag(config=True)

    @validate("executor")
    def _check_executor(self, proposal: dict) -> Any:
        from ..jobs.manager import executor_setting

        checked("executor", executor_setting, proposal["value"])
        return proposal["value"]

    max_job_workers = Int(
        1000,
        help="Most workers (hyperparameter combinations) one job submitted over REST may have; a bigger grid "
             "is refused with 400. Each worker runs under its own supervisor process.",
    ).tag(config=True)
    reconcile_jobs_at_start = Bool(
        True,
        help="At start-up, mark the workers whose supervisor died (killed, machine restarted) as failed, free "
             "their GPUs and leases, and collect the checkpoints of jobs that ended meanwhile.",
    ).tag(config=True)
    store_class = Type(
        default_value=Store, klass=Store,
        help="The artifact store class (a subclass of jupyter_artifacts.store.Store), made with the store settings.",
    ).tag(config=True)
    job_manager_class = Type(
        default_value="jupyter_artifacts.jobs.JobManager", klass="jupyter_artifacts.jobs.JobManager",
        help="The jobs API class (a subclass of jupyter_artifacts.jobs.JobManager), made with the store and the "
             "gpus and executor settings.",
    ).tag(config=True)
    operation_workers = Int(2, help="How many long operations (snapshots, fetches) run at once; the rest queue.").tag(config=True)
    max_operations = Int(1000, help="How many finished operations are remembered for GET operations/{id}.").tag(config=True)
    request_workers = Int(4, help="Threads that run blocking store calls for API requests, off the IO loop.").tag(config=True)

    def store_settings(self) -> Any:
        settings = StoreSettings.from_env(self.root_url or None)
        if self.catalog_path:
            settings.catalog_path = self.catalog_path
        settings.storage_options = dict(self.storage_options)
        for name in ("public_mirror", "public_catalog", "max_archive_ratio"):  # None: the environment's
            if getattr(self, name) is not None:
                setattr(settings, name, getattr(self, name))
        for trait, kind in (("max_model_size", "model"), ("max_checkpoint_size", "checkpoint"),
                            ("max_dataset_size", "dataset"), ("quota", None)):
            value = getattr(self, trait)
            if value is None:
                continue
            size = checked(trait, parse_size, value)
            if kind:
                settings.max_size[kind] = size
            else:
                settings.quota = size
        return settings

    def initialize_settings(self) -> None:
        store = self.store_class(self.store_settings())
        store.keep_leases()  # a shared root: this host's leases stay alive while the server runs
        self.store = store
        self.operation_manager = OperationManager(self.operation_workers, self.max_operations, self.log)
        self.request_executor = ThreadPoolExecutor(max_workers=max(1, self.request_workers),
                                                   thread_name_prefix="artifacts-api")
        self._job_manager = None
        self._job_lock = threading.Lock()
        self.settings.update({
            "jupyter_artifacts_app": self,
            "jupyter_artifacts_store": store,
            "jupyter_artifacts_operations": self.operation_manager,
            "jupyter_artifacts_executor": self.request_executor,
            "jupyter_artifacts_root_dir": self.serverapp.root_dir,
        })
        self.log.info("jupyter-artifacts: store at %s", store.root.url)
        if self.reconcile_jobs_at_start:
            self.request_executor.submit(self._reconcile_jobs)

    def _reconcile_jobs(self) -> None:
        """Jobs outlive the server; those whose supervisor died while it was down are settled now."""
        try:
            ended = self.job_manager().reconcile()
        except Exception:  # noqa: BLE001 - the server must start even if the jobs database is unreadable
            self.log.warning("jupyter-artifacts: could not reconcile jobs at start-up", exc_info=True)
            return
        if ended:
            self.log.info("jupyter-artifacts: %d job(s) whose supervisor was gone were marked ended", len(set(ended)))

    def job_manager(self) -> Any:
        """The jobs API for this store, made on first use (it keeps its database next to the catalog)."""
        with self._job_lock:
            if self._job_manager is None:
                self._job_manager = self.job_manager_class(self.store, inventory=self.gpus, executor=self.executor)
            return self._job_manager

    def initialize_handlers(self) -> None:
        self.handlers.extend(routes())

    async def stop_extension(self) -> None:
        for name in ("operation_manager", "request_executor"):
            pool = getattr(self, name, None)
            if pool is not None:
                pool.shutdown(wait=False)


main = launch_new_instance = ArtifactsApp.launch_instance
