"""The Ray cluster that jobs with the `ray` executor run on, as every process here reaches it.

The cluster is named as Ray names it, by `RAY_ADDRESS`: its job submission address
(`http://HEAD:8265`, the dashboard's). The faces and the supervisors' queue talk to its Jobs and
state HTTP APIs directly, with a timeout, so that a stopped cluster is one line within seconds
(`ray.init` against one hangs and ignores SIGTERM) and so that no face pays for importing Ray
(about 3 s and 120 MB here). Ray's own `JobSubmissionClient` is used where Ray's work matters:
packing the job's working folder and its pip requirements into a runtime environment when a worker
is submitted, and streaming its log (`tail_job_logs`); only the supervisors import it.

`placeable` is the queue's rule: a worker is submitted only when some node has the GPUs, CPUs and
memory it asks for, net of what every live actor holds (each Ray Job's supervisor actor holds its
entrypoint's resources) and of this host's submissions not yet visible there. Ray itself keeps no
FIFO order among pending jobs and fails one after 900 s pending, so the FIFO queue stays here.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import ArtifactsError, InvalidInput, Unavailable

ADDRESS_ENV = "RAY_ADDRESS"
TIMEOUT = 10.0  # seconds for one request: a cluster that does not answer by then is out of reach
ENDED = ("SUCCEEDED", "FAILED", "STOPPED")  # Ray's terminal job states
RESOURCES = ("GPU", "CPU", "memory")  # what a worker's entrypoint asks a node for


def normalize_address(address: str | None) -> str:
    """The job submission address as an http(s) URL without a trailing slash; a GCS address or
    `auto` (what `ray.init` takes) is refused with what to give instead."""
    text = (address if address is not None else os.environ.get(ADDRESS_ENV, "")).strip()
    if not text:
        raise InvalidInput(f"The ray executor needs the cluster's job submission address: set {ADDRESS_ENV}, e.g. "
                           f"{ADDRESS_ENV}=http://127.0.0.1:8265 (the head node's dashboard).")
    if "://" not in text:
        if text == "auto" or text.endswith(":6379") or text.startswith("ray"):
            raise InvalidInput(f"{ADDRESS_ENV}={text} names Ray's GCS, not its job submission address: use "
                               "http://HEAD:8265 (the head node's dashboard).")
        text = "http://" + text
    scheme = text.split("://", 1)[0]
    if scheme not in ("http", "https"):
        raise InvalidInput(f"{ADDRESS_ENV}={text} is not a job submission address: use http://HEAD:8265 (the head "
                           "node's dashboard).")
    return text.rstrip("/")


def submission_id(job_id: str, idx: int) -> str:
    """The Ray Job of a worker, named from the worker alone, so that a submission repeated (by a
    supervisor that retries) finds the first instead of running the worker twice."""
    return f"jupyter-artifacts-{job_id}-{idx}"


def entrypoint_resources(spec: Any) -> dict[str, float]:
    """What a worker's entrypoint asks a node for, in Ray's names (GPU, CPU, memory in bytes)."""
    want = {"GPU": float(spec.gpus or 0), "CPU": float(spec.cpu or 0), "memory": float(spec.memory or 0)}
    return {k: v for k, v in want.items() if v}


def placeable(nodes: list[dict], actors: list[dict], want: dict[str, float],
              unseen: list[dict[str, float]] = ()) -> bool:
    """Whether one node can take `want` now: each node's total, less what the live actors placed on it
    hold; actors not placed yet and `unseen` (submissions the cluster does not show yet) are put,
    biggest first, on the first node they fit, as Ray would."""
    free = {n["node_id"]: {k: float((n.get("resources_total") or {}).get(k, 0)) for k in RESOURCES} for n in nodes}
    waiting = list(unseen)
    for actor in actors:
        held = {k: float(v) for k, v in (actor.get("required_resources") or {}).items() if k in RESOURCES}
        if actor.get("node_id") in free and actor.get("state") == "ALIVE":
            for k, v in held.items():
                free[actor["node_id"]][k] -= v
        elif held:
            waiting.append(held)
    for need in sorted(waiting, key=lambda r: (-r.get("GPU", 0), -r.get("CPU", 0))):
        for left in free.values():
            if all(left[k] >= v for k, v in need.items()):
                for k, v in need.items():
                    left[k] -= v
                break
    return any(all(left[k] >= v for k, v in want.items()) for left in free.values())


class RayCluster:
    """One cluster's HTTP APIs (Jobs, state), each call bounded by `timeout`; errors are one line."""

    def __init__(self, address: str | None = None, timeout: float = TIMEOUT) -> None:
        self.address = normalize_address(address)
        self.timeout = timeout
        self._client = None

    def __repr__(self) -> str:
        return f"<RayCluster {self.address}>"

    def unreachable(self, why: object) -> Unavailable:
        return Unavailable(f"The Ray cluster at {self.address} could not be reached ({why}): start it, or set "
                           f"{ADDRESS_ENV} to its job submission address (http://HEAD:8265).")

    def call(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> Any:
        """One request; its JSON answer (None for 404)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.address + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            detail = exc.read().decode("utf-8", "replace").strip().splitlines()
            raise ArtifactsError(f"The Ray cluster at {self.address} refused {method} {path} ({exc.code}: "
                                 f"{(detail or [exc.reason])[-1][:300]}).") from None
        except (urllib.error.URLError, OSError) as exc:  # refused, timed out, reset, no route
            raise self.unreachable(getattr(exc, "reason", None) or exc) from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise self.unreachable(f"{path} did not answer JSON: is {self.address} Ray's dashboard?") from None

    # -- reading ---------------------------------------------------------------------------
    def version(self) -> str:
        """Ray's version on the cluster (a cheap check that it answers)."""
        answer = self.call("GET", "/api/version")
        if not isinstance(answer, dict) or "ray_version" not in answer:
            raise self.unreachable("/api/version did not answer as Ray's dashboard does")
        return str(answer["ray_version"])

    def _state(self, resource: str, **query: str) -> list[dict]:
        """A list from Ray's state API (`ray list nodes|actors`)."""
        answer = self.call("GET", f"/api/v0/{resource}?" + urllib.parse.urlencode({"limit": "10000", **query}))
        try:
            return list(answer["data"]["result"]["result"])
        except (TypeError, KeyError):
            raise self.unreachable(f"the state API's {resource} did not answer as Ray's does") from None

    def nodes(self) -> list[dict]:
        """The nodes alive now, the head first: node_id, node_name, node_ip, resources_total."""
        nodes = [n for n in self._state("nodes") if n.get("state") == "ALIVE"]
        return sorted(nodes, key=lambda n: (not n.get("is_head_node"), n.get("node_name") or "", n["node_id"]))

    def actors(self) -> list[dict]:
        """The actors not dead, with the resources each holds and its node (none while pending)."""
        return self._state("actors", detail="true", filter_keys="state", filter_predicates="!=",
                           filter_values="DEAD")

    def job(self, sid: str) -> dict | None:
        """A Ray Job's details (status, message, driver_node_id, driver_exit_code); None if unknown."""
        return self.call("GET", f"/api/jobs/{urllib.parse.quote(sid)}")

    def logs(self, sid: str) -> str:
        """Everything a Ray Job has logged so far (Ray pages nothing: the whole text)."""
        answer = self.call("GET", f"/api/jobs/{urllib.parse.quote(sid)}/logs")
        return str((answer or {}).get("logs") or "")

    def stop(self, sid: str) -> bool:
        """Ask Ray to stop a job (SIGTERM, SIGKILL after RAY_JOB_STOP_WAIT_TIME_S); False if it had ended."""
        answer = self.call("POST", f"/api/jobs/{urllib.parse.quote(sid)}/stop")
        return bool((answer or {}).get("stopped"))

    def placeable(self, want: dict[str, float], unseen: list[dict[str, float]] = ()) -> bool:
        """Whether a node can take `want` now (see the module's docstring)."""
        return placeable(self.nodes(), self.actors(), want, unseen)

    def holding(self, sids: set[str]) -> set[str]:
        """Which of these Ray Jobs the cluster shows a live supervisor actor for."""
        prefix = "_ray_internal_job_actor_"
        return {a["name"][len(prefix):] for a in self.actors() if (a.get("name") or "").startswith(prefix)} & sids

    # -- Ray's own client (supervisors only) -----------------------------------------------
    def client(self):
        """Ray's JobSubmissionClient for this cluster (imported here: ~3 s, so only where needed)."""
        if self._client is None:
            try:
                from ray.job_submission import JobSubmissionClient
            except ImportError:
                raise InvalidInput("The ray executor needs Ray: pip install 'jupyter-artifacts[ray]'.") from None
            try:
                self._client = JobSubmissionClient(self.address)
            except Exception as exc:  # ConnectionError, RuntimeError: the cluster's answer
                raise self.unreachable(str(exc).strip().splitlines()[-1] if str(exc).strip() else exc) from None
        return self._client


def check_submission(store, spec) -> RayCluster:
    """Refuse, in one line, a job the cluster cannot run: a store root the nodes cannot reach, Ray
    missing here, a cluster that does not answer (within seconds), or no node with the GPUs asked for."""
    import importlib.util

    if not store.shared:
        where = "a folder of this host" if store.root.is_local else "used by this host alone"
        raise InvalidInput(f"The ray executor needs a store root shared by the cluster's nodes, but {store.root.url} "
                           f"is {where}: use a bucket (JUPYTER_ARTIFACTS_ROOT=s3://...) or a folder the nodes mount, "
                           "marked shared (JUPYTER_ARTIFACTS_SHARED=1).")
    if importlib.util.find_spec("ray") is None:
        raise InvalidInput("The ray executor needs Ray on this host: pip install 'jupyter-artifacts[ray]'.")
    cluster = RayCluster()
    most = max((float(n.get("resources_total", {}).get("GPU", 0)) for n in cluster.nodes()), default=0.0)
    if spec.gpus > most:
        raise InvalidInput(f"The job asks for {spec.gpus} GPU{'s' if spec.gpus != 1 else ''} per worker but no node "
                           f"of the Ray cluster at {cluster.address} has more than {most:g}; ask for at most {most:g}.")
    return cluster


def gpus_view(cluster: RayCluster, placed: list[dict], queued: list[dict]) -> dict:
    """The cluster's GPUs as `JobManager.gpus` gives a host's: a device per GPU of each node alive
    (numbered as the node's CUDA_VISIBLE_DEVICES numbers them), who holds it, and the workers queued.
    `placed`: this team's workers on the cluster (holder fields, `gpus` as the node reported them,
    `placement`, `wants`); a GPU Ray gave to other work shows as held by another Ray job."""
    nodes, actors = cluster.nodes(), cluster.actors()
    prefix = "_ray_internal_job_actor_"
    ours = {(w["placement"] or {}).get("submission_id") for w in placed}
    holders: dict[tuple[str, object], dict] = {}
    starting: dict[str, list[dict]] = {}  # node -> our workers Ray placed there whose GPUs the node did not tell yet
    for w in placed:
        node_id = (w["placement"] or {}).get("node_id")
        holder = {k: w[k] for k in ("job_id", "job_name", "worker", "state")}
        for index in w["gpus"]:
            holders[(node_id, index)] = holder
        if not w["gpus"] and w["wants"] and node_id:
            starting.setdefault(node_id, []).extend([holder] * int(w["wants"]))
    others: dict[str, float] = {}  # node -> GPUs held by live actors that are not our workers'
    for a in actors:
        if a.get("state") == "ALIVE" and a.get("node_id") and (a.get("name") or "")[len(prefix):] not in ours:
            held = float((a.get("required_resources") or {}).get("GPU", 0))
            others[a["node_id"]] = others.get(a["node_id"], 0) + held
    devices, summary = [], []
    for n in nodes:
        total = (n.get("resources_total") or {})
        kind = next((k.split(":", 1)[1] for k in total if k.startswith("accelerator_type:")), "GPU")
        name = n.get("node_name") or n.get("node_ip") or n["node_id"][:12]
        waiting, foreign = list(starting.get(n["node_id"], [])), others.get(n["node_id"], 0)
        for index in range(int(total.get("GPU", 0))):
            holder = holders.get((n["node_id"], index))
            if holder is None and waiting:
                holder = waiting.pop(0)
            elif holder is None and foreign >= 1:
                holder, foreign = {"job_id": None, "note": "held by another Ray job"}, foreign - 1
            devices.append({"index": index, "name": kind, "uuid": None, "memory_total": None, "memory_used": None,
                            "node": name, "node_id": n["node_id"], "free": holder is None, "holder": holder})
        summary.append({"node_id": n["node_id"], "node": name, "ip": n.get("node_ip"),
                        "head": bool(n.get("is_head_node")), "gpus": total.get("GPU", 0), "cpus": total.get("CPU", 0),
                        "memory": total.get("memory", 0)})
    return {"source": "ray", "cluster": cluster.address, "count": len(devices), "devices": devices, "queue": queued,
            "nodes": summary}


__all__ = ["ADDRESS_ENV", "ENDED", "RayCluster", "check_submission", "entrypoint_resources", "gpus_view",
           "normalize_address", "placeable", "submission_id"]
