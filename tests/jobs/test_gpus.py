"""The GPU inventory: its setting, the simulated devices, and what NVML and nvidia-smi answer.

NVML cannot exist on a machine without NVIDIA's driver, so the NVML tests put a small `pynvml`
module first on the CLI subprocess's path: they exercise our reading of NVML's answers, not NVML.
The nvidia-smi tests run a real executable placed first on PATH that prints what nvidia-smi's
query prints, through the same subprocess call as the real one.
"""

from __future__ import annotations

import os

import pytest

from jupyter_artifacts.errors import InvalidInput
from jupyter_artifacts.jobs.gpus import SETTING_FORMS, detect, parse_setting

from .helpers import wait_job

MIB = 2**20
NO_DRIVER_NVML = """\
class NVMLError(Exception):
    pass

def nvmlInit():
    raise NVMLError("Driver Not Loaded")
"""
NVML = """\
from types import SimpleNamespace

DEVICES = [(b"NVIDIA H200", b"GPU-0a1b", 150_000_000_000, 3_000_000_000),  # older pynvml answers bytes
           ("NVIDIA H200", "GPU-2c3d", 150_000_000_000, 0)]

def nvmlInit():
    pass

def nvmlShutdown():
    pass

def nvmlDeviceGetCount():
    return len(DEVICES)

def nvmlDeviceGetHandleByIndex(index):
    return DEVICES[index]

def nvmlDeviceGetName(handle):
    return handle[0]

def nvmlDeviceGetUUID(handle):
    return handle[1]

def nvmlDeviceGetMemoryInfo(handle):
    return SimpleNamespace(total=handle[2], used=handle[3], free=handle[2] - handle[3])
"""
SMI_ANSWER = "0, NVIDIA A100-SXM4-80GB, 81920, 1024\n1, NVIDIA A100-SXM4-80GB, 81920, 0\n"


@pytest.mark.parametrize("setting, expected", [
    (None, ("auto", {})), ("", ("auto", {})), (" AUTO ", ("auto", {})),
    ("none", ("none", {})), ("off", ("none", {})), ("0", ("none", {})),
    ("fake:2", ("fake", {"count": 2, "name": "Simulated GPU", "memory": 16 * 10**9})),
    ("fake:0", ("fake", {"count": 0, "name": "Simulated GPU", "memory": 16 * 10**9})),
    ("fake:3:H100", ("fake", {"count": 3, "name": "H100", "memory": 16 * 10**9})),
    ("fake:2:A100:80G", ("fake", {"count": 2, "name": "A100", "memory": 80 * 10**9})),
    ("FAKE:1::512M", ("fake", {"count": 1, "name": "Simulated GPU", "memory": 512 * 10**6})),
])
def test_settings(setting, expected):
    assert parse_setting(setting) == expected


@pytest.mark.parametrize("setting", ["banana", "nvml", "fake", "fake:", "fake:two", "fake:-1", "fake:2000",
                                     "fake:2:A100:lots", "fake:2:A100:0", "fake:2:A100:80G:extra", "2"])
def test_bad_settings_name_the_accepted_forms(setting):
    with pytest.raises(InvalidInput) as caught:
        parse_setting(setting)
    assert caught.value.message == f"Invalid GPU setting {setting!r}: use {SETTING_FORMS}."
    assert "\n" not in caught.value.message
    assert all(form in SETTING_FORMS for form in ("auto", "none", "fake:N", "fake:N:NAME:MEMORY"))


def test_a_simulated_inventory():
    inventory = detect("fake:2:A100:80G")
    assert inventory.source == "fake" and inventory.count == 2
    assert [d.to_dict() for d in inventory.devices] == [
        {"index": i, "name": "A100", "memory_total": 80 * 10**9, "uuid": f"FAKE-GPU-{i}"} for i in range(2)]
    assert inventory.memory_used() == {}
    assert detect("none").to_dict() == {"source": "none", "devices": []}


def test_a_bad_setting_is_one_line_from_the_cli(cli):
    cli.env["JUPYTER_ARTIFACTS_GPUS"] = "fake:2:A100:lots"
    assert cli.fail("gpus") == f"Error: Invalid GPU setting 'fake:2:A100:lots': use {SETTING_FORMS}."


@pytest.fixture
def host(cli, tmp_path):
    """The CLI with the `auto` inventory, an nvidia-smi on PATH, and room for a pynvml module."""
    bin_dir, lib_dir = tmp_path / "bin", tmp_path / "lib"
    bin_dir.mkdir()
    lib_dir.mkdir()
    cli.env.update(JUPYTER_ARTIFACTS_GPUS="auto", PATH=f"{bin_dir}{os.pathsep}{cli.env['PATH']}",
                   PYTHONPATH=os.pathsep.join(p for p in (str(lib_dir), cli.env.get("PYTHONPATH")) if p))

    def smi(answer: str, exit_code: int = 0) -> None:
        script = bin_dir / "nvidia-smi"
        script.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'smi-calls'}\nprintf '%s' '{answer}'\n"
                          f"exit {exit_code}\n")
        script.chmod(0o755)

    def nvml(source: str) -> None:
        (lib_dir / "pynvml.py").write_text(source)

    cli.smi, cli.nvml, cli.smi_calls = smi, nvml, tmp_path / "smi-calls"
    return cli


def test_nvidia_smi_when_nvml_has_no_driver(host):
    host.nvml(NO_DRIVER_NVML)
    host.smi(SMI_ANSWER)
    info = host.json("gpus")
    assert info["source"] == "nvidia-smi" and info["count"] == 2
    assert [(d["index"], d["name"], d["memory_total"], d["memory_used"], d["free"]) for d in info["devices"]] == [
        (0, "NVIDIA A100-SXM4-80GB", 81920 * MIB, 1024 * MIB, True),
        (1, "NVIDIA A100-SXM4-80GB", 81920 * MIB, 0, True)]
    calls = host.smi_calls.read_text().splitlines()
    assert set(calls) == {"--query-gpu=index,name,memory.total,memory.used --format=csv,noheader,nounits"}
    table = host.run("gpus").stdout
    assert "NVIDIA A100-SXM4-80GB" in table and "1.1 GB of 85.9 GB" in table


def test_a_failing_nvidia_smi_means_no_gpus(host):
    host.nvml(NO_DRIVER_NVML)
    host.smi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", exit_code=9)
    assert host.json("gpus") == {"source": "none", "count": 0, "devices": [], "queue": []}
    assert "No GPUs (none)" in host.run("gpus").stdout
    error = host.fail("job", "create", "training", "j", "--command", "true", "--gpus", "1")
    assert "asks for 1 GPU but this host has 0 (none inventory)" in error


def test_nvml_comes_first_and_its_answers_are_read(host):
    host.nvml(NVML)
    host.smi(SMI_ANSWER)  # also there, and not asked
    info = host.json("gpus")
    assert info["source"] == "nvml"
    assert [(d["index"], d["name"], d["uuid"], d["memory_total"], d["memory_used"]) for d in info["devices"]] == [
        (0, "NVIDIA H200", "GPU-0a1b", 150_000_000_000, 3_000_000_000),
        (1, "NVIDIA H200", "GPU-2c3d", 150_000_000_000, 0)]
    assert not host.smi_calls.exists()
    job_id = host.run("job", "create", "training", "on-nvml", "--gpus", "2", "--command",
                      "echo devices $CUDA_VISIBLE_DEVICES").stdout.strip()
    assert wait_job(host, job_id)["state"] == "finished"
    assert "devices 0,1" in host.run("job", "logs", job_id).stdout
