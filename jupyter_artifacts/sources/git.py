"""Git sources: a shallow clone with the `git` command line (ssh uses the user's own keys)."""

from __future__ import annotations

import os
import shutil
import subprocess

from ..errors import InvalidInput, NotFound
from .fetch import FetchFailed, Retries, with_retries
from .spec import SourceSpec, redact

_TRANSIENT = ("could not resolve host", "connection reset", "connection refused", "connection timed out",
              "early eof", "rpc failed", "the remote end hung up unexpectedly", "operation timed out",
              "unexpected disconnect", "http/2 stream", "returned error: 5", "temporary failure")
_NOT_FOUND = ("not found", "does not appear to be a git repository", "repository not found",
              "remote branch", "could not find remote branch", "does not exist")


class GitTransientError(ConnectionError):
    pass


def git_env() -> dict[str, str]:
    """Never prompt (a server or a job has no terminal): ssh fails instead of asking, unless the
    user chose their own ssh command (GIT_SSH_COMMAND, GIT_SSH or core.sshCommand), which is kept."""
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_ASKPASS"] = env.get("GIT_ASKPASS", "echo")
    if not (env.get("GIT_SSH_COMMAND") or env.get("GIT_SSH") or _configured_ssh_command(env)):
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    return env


def _configured_ssh_command(env: dict[str, str]) -> str:
    proc = subprocess.run(["git", "config", "--get", "core.sshCommand"], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    return proc.stdout.strip()


def clone_command(url: str, dest: str, branch: str | None, shallow: bool = True) -> list[str]:
    cmd = ["git", "-c", "advice.detachedHead=false", "clone", "--quiet", "--single-branch", "--no-tags"]
    if shallow:
        cmd += ["--depth", "1"]
    if branch:
        cmd += ["--branch", branch]
    return cmd + ["--", url, dest]


def clone(spec: SourceSpec, dest: str, timeout: float | None = None, retries: Retries = Retries()) -> dict:
    """Clone into `dest` (which must not exist), drop `.git`; returns {'commit': sha}."""
    commit = clone_repository(spec, dest, timeout, retries)
    shutil.rmtree(os.path.join(dest, ".git"), ignore_errors=True)
    return {"commit": commit} if commit else {}


def clone_repository(spec: SourceSpec, dest: str, timeout: float | None = None, retries: Retries = Retries()) -> str:
    """A shallow clone (a full one where the server cannot do shallow) into `dest`, `.git` kept;
    transient errors are retried. Returns the commit checked out."""
    if shutil.which("git") is None:
        raise InvalidInput("git sources need the git command, which is not installed on this machine.")
    where = redact(spec.path)
    env = git_env()

    def attempt(shallow: bool = True) -> None:
        if os.path.exists(dest):
            shutil.rmtree(dest)
        proc = subprocess.run(clone_command(spec.path, dest, spec.branch, shallow), env=env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if proc.returncode == 0:
            return
        message = (proc.stderr or proc.stdout).strip()
        lower = message.lower()
        if shallow and ("shallow" in lower or "dumb http transport" in lower):
            return attempt(shallow=False)  # servers without shallow support: a full clone
        if any(t in lower for t in _TRANSIENT):
            raise GitTransientError(message)
        last = [line for line in message.splitlines() if line.strip()][-1:] or ["git clone failed"]
        detail = redact(last[0].removeprefix("fatal: "))
        if any(n in lower for n in _NOT_FOUND):
            what = f"branch {spec.branch!r} of " if spec.branch and "branch" in lower else ""
            raise NotFound(f"Could not clone {what}{where}: {detail}")
        if "permission denied" in lower or "authentication failed" in lower or "could not read username" in lower:
            raise FetchFailed(f"Could not clone {where}: access denied ({detail}). For ssh URLs your ssh key must "
                              "be loaded; for private https repositories configure a git credential helper.")
        raise FetchFailed(f"Could not clone {where}: {detail}")

    with_retries(attempt, where, retries)
    return subprocess.run(["git", "-C", dest, "rev-parse", "HEAD"], capture_output=True, text=True,
                          env=env).stdout.strip()
