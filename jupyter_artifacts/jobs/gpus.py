"""The host's GPUs: an inventory (NVML, else nvidia-smi, else none; or simulated) and exclusive leases.

A lease is an flock on one lock file per device, held by the worker's supervisor: when that
process dies for any reason the kernel drops the lock, so a crashed job never keeps a GPU.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import asdict, dataclass

from ..errors import InvalidInput

GPUS_ENV = "JUPYTER_ARTIFACTS_GPUS"
SETTING_FORMS = ("auto (NVML, else nvidia-smi, else no GPUs), none, or fake:N for N simulated devices "
                 "(optionally fake:N:NAME:MEMORY, e.g. fake:2:A100:80G)")


@dataclass
class Device:
    index: int
    name: str
    memory_total: int | None = None  # bytes
    uuid: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Inventory:
    source: str  # nvml, nvidia-smi, fake, none
    devices: list[Device]

    @property
    def count(self) -> int:
        return len(self.devices)

    def memory_used(self) -> dict[int, int]:
        """Memory in use per device where the source can tell (NVML or nvidia-smi), in bytes."""
        if self.source == "nvml":
            try:
                import pynvml

                pynvml.nvmlInit()
                try:
                    return {d.index: int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(d.index)).used)
                            for d in self.devices}
                finally:
                    pynvml.nvmlShutdown()
            except Exception:  # a driver hiccup must not break a listing
                return {}
        if self.source == "nvidia-smi":
            return {i: used for i, (_name, _total, used) in _smi_query().items()}
        return {}

    def to_dict(self) -> dict:
        return {"source": self.source, "devices": [d.to_dict() for d in self.devices]}


def parse_setting(setting: str | None) -> tuple[str, dict]:
    """(mode, options) for an inventory setting; anything else is refused naming the accepted forms."""
    text = (setting or "auto").strip()
    lowered = text.lower()
    if lowered in ("auto", ""):
        return "auto", {}
    if lowered in ("none", "off", "0"):
        return "none", {}
    refused = InvalidInput(f"Invalid GPU setting {text!r}: use {SETTING_FORMS}.")
    parts = text.split(":")
    if parts[0].lower() != "fake" or len(parts) > 4:
        raise refused
    try:
        count = int(parts[1])
        if count < 0 or count > 1024:
            raise ValueError
        memory = 16 * 10**9
        if len(parts) > 3 and parts[3]:
            from ..units import parse_size

            memory = parse_size(parts[3], "GPU memory")
            if memory is None:  # a device's memory, not a limit: "none" or 0 makes no sense
                raise ValueError
    except (IndexError, ValueError, InvalidInput):
        raise refused from None
    name = parts[2] if len(parts) > 2 and parts[2] else "Simulated GPU"
    return "fake", {"count": count, "name": name, "memory": memory}


def _nvml_devices() -> list[Device] | None:
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:
        return None
    try:
        devices = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            uuid = pynvml.nvmlDeviceGetUUID(handle)
            devices.append(Device(i, name.decode() if isinstance(name, bytes) else name,
                                  int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                                  uuid.decode() if isinstance(uuid, bytes) else uuid))
        return devices
    except Exception:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _smi_query() -> dict[int, tuple[str, int, int]]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return {}
    try:
        out = subprocess.run([exe, "--query-gpu=index,name,memory.total,memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if out.returncode != 0:
        return {}
    found = {}
    for line in out.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 4 and parts[0].isdigit():
            try:
                found[int(parts[0])] = (parts[1], int(float(parts[2])) * 2**20, int(float(parts[3])) * 2**20)
            except ValueError:
                continue
    return found


def detect(setting: str | None = None) -> Inventory:
    """The inventory for a setting; None reads JUPYTER_ARTIFACTS_GPUS, defaulting to auto."""
    if setting is None:
        setting = os.environ.get(GPUS_ENV, "auto")
    mode, options = parse_setting(setting)
    if mode == "none":
        return Inventory("none", [])
    if mode == "fake":
        return Inventory("fake", [Device(i, options["name"], options["memory"], f"FAKE-GPU-{i}")
                                  for i in range(options["count"])])
    devices = _nvml_devices()
    if devices is not None:
        return Inventory("nvml", devices)
    smi = _smi_query()
    if smi:
        return Inventory("nvidia-smi", [Device(i, name, total) for i, (name, total, _used) in sorted(smi.items())])
    return Inventory("none", [])


def as_inventory(value: Inventory | str | None) -> Inventory:
    return value if isinstance(value, Inventory) else detect(value)


# -- leases (kept in .leases so that a supervisor starts without this module) ---------------
from .leases import acquire, is_free, lock_path, release, try_lock  # noqa: E402,F401
