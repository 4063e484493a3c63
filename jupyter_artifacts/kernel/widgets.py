"""ipywidgets 8 forms: JobForm, ArtifactBrowser and JobMonitor.

Each widget calls exactly the session functions the magics call (`actions.Session`), so a job
created from the form is the job `%%train` would create with the same options. Mistakes are
shown inline, in red, in the widget's status line.
"""

from __future__ import annotations

import html
import json
import threading

import ipywidgets as widgets

from ..errors import ArtifactsError, NotFound
from ..jobs.db import TERMINAL
from . import actions, jobview

STATE_COLORS = {"queued": "#777", "building": "#b58900", "running": "#268bd2", "uploading": "#268bd2",
                "finished": "#2e7d32", "failed": "#c62828", "stopped": "#6d4c41"}


def _session(session):
    return session if session is not None else actions.session()


def _error_html(message: str) -> str:
    return f"<span style='color:#c62828'>{html.escape(message, quote=False)}</span>"


def _ok_html(message: str) -> str:
    return f"<span style='color:#2e7d32'>{html.escape(message, quote=False)}</span>"


def _table_html(table) -> str:
    return table._repr_html_()


class JobMonitor(widgets.VBox):
    """A job's status, per-worker state and metrics, a live log tail and a Stop button.

    Updates come from a background thread (ipywidgets state may be set from any thread), so
    the kernel stays free; the thread ends when the job does.
    """

    def __init__(self, job, session=None, interval: float = 1.0, log_lines: int = 30, autostart: bool = True,
                 **kwargs) -> None:
        self.session = _session(session)
        if isinstance(job, str):
            job = self.session.get_job(job)
        self.job = job
        self.job_id = job.id
        self.interval = interval
        self.log_lines = log_lines
        self._log_offset: int | str = 0
        self._finished = False
        self._log: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()
        self.header = widgets.HTML()
        self.progress = widgets.IntProgress(min=0, max=max(1, len(job.workers)), description="workers done")
        self.workers = widgets.HTML()
        self.logs = widgets.HTML()
        self.status = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop",
                                          tooltip="SIGTERM to the workers, SIGKILL after the grace period")
        self.stop_button.on_click(lambda _button: self.stop())
        super().__init__(children=[self.header, self.progress, self.workers, self.logs,
                                   widgets.HBox([self.stop_button, self.status])], **kwargs)
        self._render(job)
        if autostart:
            self.start()

    def _repr_mimebundle_(self, **kwargs):
        """Front ends that cannot show widgets (a console, a text export) show the text job view instead."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/plain"] = jobview.describe(self.job)
        return bundle

    @property
    def finished(self) -> bool:
        """True once the job has ended and all of its log is shown (the monitor then stops updating)."""
        return self._finished

    def start(self) -> None:
        """Update in the background until the job ends."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=f"job-monitor-{self.job_id[:8]}", daemon=True)
            self._thread.start()

    def stop_updates(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            try:
                if self.refresh():
                    return
            except NotFound as exc:  # the job is gone (or the store moved): nothing more to show
                self.status.value = _error_html(exc.message)
                return
            except Exception as exc:  # a monitor must never die noisily in a background thread
                self.status.value = _error_html(getattr(exc, "message", None) or str(exc))
            if self._stop.wait(self.interval):
                return

    def refresh(self) -> bool:
        """Read the job and its new log lines; True once the job has ended and everything is shown."""
        with self._refresh_lock:
            job = self.session.get_job(self.job_id)
            while True:
                chunk = self.session.job_logs(self.job_id, offset=self._log_offset)
                self._log_offset = chunk.offset
                self._log.extend(chunk.text.splitlines())
                self._log = self._log[-self.log_lines:]
                if not chunk.text:
                    break
            if chunk.finished:  # the job's last state, read after the log said it ended
                job = self.session.get_job(self.job_id)
            self.job = job
            self._render(job)
            self._finished = chunk.finished
            return chunk.finished

    def _render(self, job) -> None:
        color = STATE_COLORS.get(job.state, "#333")
        gpus = job.resources["gpus"]
        held = sorted({g for w in job.workers for g in (w.get("gpus") or [])})
        parts = [f"<b>{html.escape(job.name)}</b> ({html.escape(job.type)}, {html.escape(job.id[:12])})",
                 f"<span style='color:{color};font-weight:bold'>{html.escape(job.state)}</span>",
                 f"{gpus} GPU{'s' if gpus != 1 else ''} per worker" + (f", on GPU {','.join(map(str, held))}" if held else ""),
                 jobview.duration(job)]
        if job.error:
            parts.append(_error_html(job.error))
        outputs = jobview.outputs_text(job)
        if outputs:
            parts.append(f"output: {html.escape(outputs)}")
        self.header.value = " &middot; ".join(parts)
        done = sum(1 for w in job.workers if w["state"] in TERMINAL)
        self.progress.max = max(1, len(job.workers))
        self.progress.value = done
        self.progress.bar_style = {"finished": "success", "failed": "danger", "stopped": "warning"}.get(job.state, "info")
        self.workers.value = _table_html(jobview.workers_table(job))
        tail = "\n".join(self._log[-self.log_lines:])
        self.logs.value = ("<pre style='max-height:16em;overflow:auto;font-size:90%;margin:0'>"
                           f"{html.escape(tail) or '(no output yet)'}</pre>")
        self.stop_button.disabled = job.state in TERMINAL

    def stop(self, save_output: bool = False) -> None:
        """The Stop button: stop the job (the same call as %stop_job)."""
        try:
            self.job = self.session.stop_job(self.job_id, save_output=save_output)
            self.status.value = _ok_html("Stopping...")
            self._render(self.job)
            self.start()
        except ArtifactsError as exc:
            self.status.value = _error_html(exc.message)


class ArtifactBrowser(widgets.VBox):
    """A filterable table of artifacts with attach, save and delete actions."""

    KIND_OPTIONS = [("Checkpoints", "checkpoint"), ("Models", "model"), ("Datasets", "dataset"), ("All", "")]

    def __init__(self, kind: str | None = "checkpoint", session=None, limit: int = 200, **kwargs) -> None:
        self.session = _session(session)
        self.limit = limit
        self.artifacts: list = []
        self._confirm_delete: str | None = None
        self.kind = widgets.Dropdown(options=self.KIND_OPTIONS, value=kind or "", description="Kind")
        self.filter = widgets.Text(placeholder="name, alias or id", description="Filter", continuous_update=False)
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.table = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="100%"))
        self.details = widgets.HTML()
        self.attach_as = widgets.Text(placeholder="(its name)", description="Attach as")
        self.attach_button = widgets.Button(description="Attach", icon="link")
        self.delete_button = widgets.Button(description="Delete", button_style="danger", icon="trash")
        self.save_folder = widgets.Text(value="models", description="Save folder")
        self.save_name = widgets.Text(placeholder="name", description="as name")
        self.save_button = widgets.Button(description="Save", icon="save")
        self.status = widgets.HTML()
        self.kind.observe(lambda _change: self.refresh(), names="value")
        self.filter.observe(lambda _change: self.refresh(), names="value")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.table.observe(lambda _change: self._show_details(), names="value")
        self.attach_button.on_click(lambda _button: self.attach())
        self.delete_button.on_click(lambda _button: self.delete())
        self.save_button.on_click(lambda _button: self.save())
        super().__init__(children=[
            widgets.HBox([self.kind, self.filter, self.refresh_button]),
            self.table, self.details,
            widgets.HBox([self.attach_as, self.attach_button, self.delete_button]),
            widgets.HBox([self.save_folder, self.save_name, self.save_button]),
            self.status,
        ], **kwargs)
        self.refresh()

    @property
    def selected(self):
        for artifact in self.artifacts:
            if artifact.id == self.table.value:
                return artifact
        return None

    def _label(self, a) -> str:
        from .display import size, when

        aliases = f" [{', '.join(a.aliases)}]" if a.aliases else ""
        prefix = f"{a.kind:<10} " if not self.kind.value else ""
        return f"{prefix}{a.reference}{aliases}  {a.state}  {size(a.size)}  {when(a.created_at)}"

    def refresh(self) -> None:
        try:
            self.artifacts, total = self.session.list_artifacts(self.kind.value or None, query=self.filter.value or None,
                                                                limit=self.limit)
        except ArtifactsError as exc:
            self.status.value = _error_html(exc.message)
            return
        previous = self.table.value
        self.table.options = [(self._label(a), a.id) for a in self.artifacts]
        ids = [a.id for a in self.artifacts]
        self.table.value = previous if previous in ids else (ids[0] if ids else None)
        self._confirm_delete = None
        shown = f"{len(self.artifacts)} of {total}" if total > len(self.artifacts) else f"{total}"
        self.status.value = f"{shown} artifact{'s' if total != 1 else ''}"
        self._show_details()

    def _show_details(self) -> None:
        a = self.selected
        if a is None:
            self.details.value = ""
            return
        self.details.value = (f"<b>{html.escape(a.kind)} {html.escape(a.reference)}</b> &middot; "
                              f"{a.file_count:,} files &middot; id <code>{a.id}</code> &middot; "
                              f"by {html.escape(a.created_by)}"
                              + (f" &middot; metadata <code>{html.escape(json.dumps(a.metadata))}</code>"
                                 if a.metadata else ""))

    def attach(self):
        a = self.selected
        if a is None:
            self.status.value = _error_html("Select an artifact to attach.")
            return None
        try:
            attachment = self.session.attach(a.kind, a.id, as_name=self.attach_as.value.strip() or None)
        except ArtifactsError as exc:
            self.status.value = _error_html(exc.message)
            return None
        self.status.value = _ok_html(f"Attached {a.kind} {attachment.reference} at {attachment.path}")
        return attachment

    def save(self):
        kind = self.kind.value or "checkpoint"
        try:
            artifact = self.session.save(kind, self.save_folder.value, self.save_name.value.strip())
        except ArtifactsError as exc:
            self.status.value = _error_html(exc.message)
            return None
        self.refresh()
        self.table.value = artifact.id if artifact.id in [x.id for x in self.artifacts] else self.table.value
        self.status.value = _ok_html(f"Saved {self.save_folder.value.strip()}/ as {kind} {artifact.reference}")
        return artifact

    def delete(self):
        """Delete the selected artifact; the first click asks to click again."""
        a = self.selected
        if a is None:
            self.status.value = _error_html("Select an artifact to delete.")
            return None
        if self._confirm_delete != a.id:
            self._confirm_delete = a.id
            self.status.value = _error_html(f"Click Delete again to delete {a.kind} {a.reference}.")
            return None
        self._confirm_delete = None
        try:
            result = self.session.delete_artifact(a.id)
        except ArtifactsError as exc:
            self.status.value = _error_html(exc.message)
            return None
        self.refresh()
        self.status.value = _ok_html(f"Deleted {a.kind} {a.reference}")
        return result


# Every label of the job form whole ("Hyperparameters", "Checkpoints"), in one column.
LABEL = {"description_width": "125px"}


def option_field(option) -> widgets.Widget:
    """The form's field for a job option, from the option table's `widget` (kind, label, hint)."""
    kind, label, hint = option.widget
    wide = widgets.Layout(width="60%")
    if kind == "toggle":
        return widgets.ToggleButtons(options=[(v.capitalize(), v) for v in option.schema["enum"]],
                                     value=option.schema["enum"][0], description=label, style=LABEL)
    if kind == "count":
        return widgets.BoundedIntText(value=0, min=0, description=label, style=LABEL)
    if kind == "number":
        return widgets.BoundedFloatText(value=0, min=0, max=4096, step=0.5, description=label, tooltip=hint,
                                        style=LABEL)
    if kind == "choice":
        return widgets.Dropdown(description=label, options=[("(none)", "")], style=LABEL)
    if kind == "choices":
        return widgets.SelectMultiple(description=label, options=[], rows=5, layout=wide, style=LABEL)
    if kind == "json":
        return widgets.Textarea(description=label, placeholder=hint, layout=widgets.Layout(width="60%", height="5em"),
                                style=LABEL)
    return widgets.Text(description=label, placeholder=hint, style=LABEL)


class JobForm(widgets.VBox):
    """The job form: name, type, command or script, resources, model, data, hyperparameters; Create.
    Its fields are the option table's (jobs/options.py) that have a `widget`; `fields` holds them by
    option name, and each is also an attribute (`form.gpus`, `form.datasets` for `data`, ...)."""

    ATTRIBUTES = {"data": "datasets", "data_manifest": "manifest", "output": "output_type"}

    def __init__(self, session=None, **kwargs) -> None:
        from ..jobs.options import BY_NAME, OPTIONS

        self.session = _session(session)
        self.job = None
        self.monitor: JobMonitor | None = None
        try:
            max_gpus = self.session.gpu_count()
        except ArtifactsError:
            max_gpus = 0
        self.max_gpus = max_gpus
        self.fields = {o.name: option_field(o) for o in OPTIONS if o.widget}
        for name, field in self.fields.items():
            setattr(self, self.ATTRIBUTES.get(name, name), field)
        self.name.placeholder = self.session.default_job_name("training")
        self.command.layout = widgets.Layout(width="60%")
        self.manifest.layout = widgets.Layout(width="60%")
        self.gpus.max, self.gpus.value, self.gpus.tooltip = max_gpus, min(1, max_gpus), f"this host has {max_gpus}"
        self.datasets.rows = 4
        self.output_type.options = [("Checkpoint", "checkpoint"), ("Model", "model"), ("URL", "url")]
        self.source = widgets.ToggleButtons(options=["Command", "Script"], value="Command", description="Run",
                                            style=LABEL)
        self.script = widgets.Textarea(description="Script", placeholder="import os\n...", style=LABEL,
                                       layout=widgets.Layout(width="60%", height="8em", display="none"))
        self.public = widgets.Checkbox(description="Public", value=False, indent=False,
                                       tooltip="choose from the public checkpoint catalog")
        self.output_uri = widgets.Text(description="Output URI", placeholder=BY_NAME["output"].widget[2], disabled=True,
                                       layout=widgets.Layout(width="60%"), style=LABEL)
        self.create_button = widgets.Button(description="Create", button_style="primary", icon="play")
        self.error = widgets.HTML()
        self.result = widgets.VBox()
        self.source.observe(self._switch_source, names="value")
        self.public.observe(lambda _change: self._load_checkpoints(), names="value")
        self.output_type.observe(self._switch_output, names="value")
        self.create_button.on_click(lambda _button: self.create())
        super().__init__(children=[
            widgets.HTML("<b>Job</b>"), self.name, self.type, self.source, self.command, self.script,
            widgets.HTML("<b>Resources</b>"), widgets.HBox([self.gpus, self.cpu, self.memory]),
            widgets.HTML("<b>Model</b>"), self.model, widgets.HBox([self.checkpoints, self.public]),
            widgets.HTML("<b>Data</b>"), self.datasets, self.manifest, widgets.HBox([self.output_type, self.output_uri]),
            widgets.HTML("<b>Hyperparameters</b>"), self.hyperparameters,
            widgets.HBox([self.create_button, self.error]), self.result,
        ], **kwargs)
        self.reload()

    # -- options ---------------------------------------------------------------------------
    def reload(self) -> None:
        """Fill the dropdowns from the store (and the public catalog when Public is checked)."""
        try:
            models, _ = self.session.list_artifacts("model", limit=1000, query=None)
            datasets, _ = self.session.list_artifacts("dataset", limit=1000, query=None)
        except ArtifactsError as exc:
            self.error.value = _error_html(exc.message)
            return
        self.model.options = [("(none)", "")] + [(a.reference, a.reference) for a in models if a.state == "ready"]
        self.datasets.options = [(a.reference, a.reference) for a in datasets if a.state == "ready"]
        self._load_checkpoints()

    def _load_checkpoints(self) -> None:
        if self.public.value:
            items = self.session.public_checkpoints()
            self.checkpoints.options = [(self._public_label(i), i["id"]) for i in items]
        else:
            found, _ = self.session.list_artifacts("checkpoint", limit=1000)
            self.checkpoints.options = [(a.reference, a.reference) for a in found if a.state == "ready"]
        self.checkpoints.value = ()

    @staticmethod
    def _public_label(item: dict) -> str:
        extra = item.get("title") or item.get("name") or item.get("description") or ""
        return f"{item['id']} - {extra}" if extra and extra != item["id"] else item["id"]

    def _switch_source(self, change) -> None:
        script = change["new"] == "Script"
        self.script.layout.display = None if script else "none"
        self.command.layout.display = "none" if script else None

    def _switch_output(self, change) -> None:
        self.output_uri.disabled = change["new"] != "url"

    # -- create ----------------------------------------------------------------------------
    def options(self) -> dict:
        """The form's values as job options (what `Session.job_spec` takes, keyed as the option table)."""
        from ..errors import InvalidInput

        hyper_text = self.hyperparameters.value.strip()
        hyper = None
        if hyper_text:
            try:
                hyper = json.loads(hyper_text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"Hyperparameters are not valid JSON: {exc.msg} (line {exc.lineno}, "
                                   f"column {exc.colno}).") from None
            if not isinstance(hyper, dict):
                raise InvalidInput('Hyperparameters must be a JSON object such as {"lr": 0.01, "degree": [3, 4]}.')
        output = self.output_type.value
        if output == "url":
            output = self.output_uri.value.strip()
            if not output:
                raise InvalidInput("Give the output URI (such as s3://bucket/folder), or choose Checkpoint or Model.")
        if self.gpus.value > self.max_gpus:
            raise InvalidInput(f"This host has {self.max_gpus} GPUs; ask for at most {self.max_gpus}.")
        values = {name: field.value for name, field in self.fields.items() if name not in ("type", "name", "command")}
        values.update(output=output, hyperparameters=hyper, cpu=values["cpu"] or None,
                      data=list(values["data"]), checkpoints=list(values["checkpoints"]))
        if self.public.value:  # the list shows the public catalog: the ids chosen are public checkpoints
            values["public_checkpoints"], values["checkpoints"] = values["checkpoints"], []
        return values

    def create(self):
        """Validate and launch; shows the error inline, or a live JobMonitor below the form."""
        from ..errors import InvalidInput

        self.error.value = ""
        try:
            name = self.name.value.strip() or None
            options = self.options()
            if self.source.value == "Script":
                job = self.session.run_script(self.type.value, self.script.value, name=name, **options)
            else:
                command = self.command.value.strip()
                if not command:
                    raise InvalidInput("Give the command to run (such as python train.py), or switch to Script.")
                job = self.session.submit_job(self.session.job_spec(self.type.value, name, command, **options))
        except ArtifactsError as exc:
            self.error.value = _error_html(exc.message)
            return None
        self.job = job
        self.error.value = _ok_html(jobview.started_line(job))
        self.monitor = JobMonitor(job, session=self.session)
        self.result.children = [self.monitor]
        return job


__all__ = ["ArtifactBrowser", "JobForm", "JobMonitor"]
