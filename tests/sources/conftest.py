"""Real servers on 127.0.0.1 for source tests: HTTP (with faults on demand), FTP, S3 (moto), git."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import fsspec
import pytest
from fsspec.spec import AbstractFileSystem


def require(module: str):
    """Import a declared test dependency; a missing one fails the test instead of skipping it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{module} is missing ({exc}); it is a test dependency: pip install -e '.[test]'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """Retries still happen, with a short backoff."""
    monkeypatch.setenv("JUPYTER_ARTIFACTS_FETCH_BACKOFF", "0.02")
    monkeypatch.delenv("JUPYTER_ARTIFACTS_PUBLIC_MIRROR", raising=False)
    monkeypatch.delenv("JUPYTER_ARTIFACTS_PUBLIC_CATALOG", raising=False)


# -- HTTP ---------------------------------------------------------------------------------------
class FaultyHandler(SimpleHTTPRequestHandler):
    """Serves the server's folder; `server.faults[path]` lists faults to apply, one per request.
    Each request waits `server.delay` seconds; `server.most_in_flight` is the most served at once."""

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    @contextmanager
    def serving(self):
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.most_in_flight = max(server.most_in_flight, server.in_flight)
        try:
            time.sleep(server.delay)
            yield
        finally:
            with server.lock:
                server.in_flight -= 1

    def do_GET(self) -> None:  # noqa: N802
        with self.serving():
            self._get()

    def _get(self) -> None:
        self.server.requests.append(self.path)
        faults = self.server.faults.get(self.path)
        fault = faults.pop(0) if faults else None
        if fault == "truncate":
            full = os.path.join(self.server.folder, self.path.lstrip("/"))
            data = Path(full).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(fault, int):
            self.send_error(fault)
            return
        super().do_GET()

    def do_HEAD(self) -> None:  # noqa: N802
        with self.serving():
            self.server.requests.append("HEAD " + self.path)
            super().do_HEAD()


class WebServer:
    """Serves `folder` over http, or over https with a TLS `context`."""

    def __init__(self, folder: Path, context: ssl.SSLContext | None = None) -> None:
        self.folder = folder
        port = free_port()
        handler = lambda *a, **k: FaultyHandler(*a, directory=str(folder), **k)  # noqa: E731
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.daemon_threads = True
        self.httpd.folder = str(folder)
        self.httpd.faults = {}
        self.httpd.requests = []
        self.httpd.lock = threading.Lock()
        self.httpd.delay = 0.0
        self.httpd.in_flight = self.httpd.most_in_flight = 0
        self.url = f"{'https' if context else 'http'}://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def fault(self, path: str, *faults) -> None:
        self.httpd.faults[path] = list(faults)

    def put(self, rel: str, data: bytes | str) -> str:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return f"{self.url}/{rel}"

    @property
    def most_in_flight(self) -> int:
        return self.httpd.most_in_flight

    def slow(self, seconds: float):
        """Delay every request by `seconds` until the returned function is called."""
        self.httpd.delay = seconds

        def restore() -> None:
            self.httpd.delay = 0.0

        return restore

    def reset(self) -> None:
        self.httpd.faults.clear()
        self.httpd.requests.clear()
        self.httpd.delay = 0.0
        self.httpd.most_in_flight = 0

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def _web(tmp_path_factory):
    server = WebServer(tmp_path_factory.mktemp("www"))
    yield server
    server.close()


@pytest.fixture
def web(_web):
    _web.reset()
    yield _web
    _web.reset()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) files for 127.0.0.1, valid for a day, signed by themselves."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="session")
def tls_web(tmp_path_factory):
    """An https server with a self-signed certificate; `cert` is the file to trust it with."""
    require("cryptography")
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = WebServer(tmp_path_factory.mktemp("www-tls"), context)
    server.cert = cert
    yield server
    server.close()


# -- FTP ----------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ftp(tmp_path_factory):
    require("pyftpdlib")
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import ThreadedFTPServer

    folder = tmp_path_factory.mktemp("ftp")
    authorizer = DummyAuthorizer()
    authorizer.add_anonymous(str(folder), perm="elr")
    authorizer.add_user("alice", "s3cret", str(folder), perm="elr")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "test", "log_prefix": ""})
    import logging

    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedFTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()

    class FTP:
        url = f"ftp://127.0.0.1:{port}"
        root = folder

        def put(self, rel: str, data: bytes | str) -> str:
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.encode() if isinstance(data, str) else data)
            return f"{self.url}/{rel}"

    yield FTP()
    server.close_all()


# -- S3: a bucket on the moto server of tests/conftest.py -----------------------------------------
@pytest.fixture
def s3(moto_url, aws_credentials):
    """A fresh bucket on the moto server; `put` writes objects."""
    import uuid

    import fsspec

    fs = fsspec.filesystem("s3", endpoint_url=moto_url, skip_instance_cache=True)
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)

    class S3:
        url = moto_url
        name = bucket
        filesystem = fs

        def put(self, key: str, data: bytes | str) -> str:
            fs.pipe(f"{bucket}/{key}", data.encode() if isinstance(data, str) else data)
            return f"s3://{bucket}/{key}"

    return S3()


# -- git ----------------------------------------------------------------------------------------
GIT_ENV = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str, cwd: Path | str | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


class GitBackendHandler(SimpleHTTPRequestHandler):
    """Smart HTTP through `git http-backend` (a CGI program), so shallow clones work."""

    def log_message(self, *args) -> None:
        pass

    def _cgi(self) -> None:
        self.server.requests.append(self.path)
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {**os.environ, "GIT_PROJECT_ROOT": self.server.project_root, "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(length),
               "REMOTE_ADDR": "127.0.0.1", "GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
        if self.headers.get("Content-Encoding") == "gzip":
            env["HTTP_CONTENT_ENCODING"] = "gzip"
        if self.command == "POST":
            self.server.bodies.append(gzip.decompress(body) if env.get("HTTP_CONTENT_ENCODING") else body)
        proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = proc.stdout.partition(b"\n\n")
        status = 200
        headers = []
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _cgi
    do_POST = _cgi


@pytest.fixture(scope="session")
def git_repo(tmp_path_factory):
    """A bare repository (main and dev branches) served over smart HTTP and file://; a copy of it
    at a path without the `.git` suffix."""
    if shutil.which("git") is None:
        pytest.fail("git is not installed; the git source tests need the git command on PATH")
    base = tmp_path_factory.mktemp("git")
    work = base / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", str(work))
    (work / "README.md").write_text("# demo\n")
    (work / "src").mkdir()
    (work / "src" / "train.py").write_text("print('train')\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    (work / "CHANGES.md").write_text("second commit\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "second", cwd=work)
    git("checkout", "-q", "-b", "dev", cwd=work)
    (work / "dev.txt").write_text("only on dev\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "dev", cwd=work)
    git("checkout", "-q", "main", cwd=work)
    projects = base / "projects"
    projects.mkdir()
    bare = projects / "demo.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    plain = projects / "plain"
    git("clone", "-q", "--bare", str(work), str(plain))
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), GitBackendHandler)
    httpd.daemon_threads = True
    httpd.project_root = str(projects)
    httpd.requests = []
    httpd.bodies = []  # request bodies sent to git-upload-pack and git-receive-pack
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    class Repo:
        http_url = f"http://127.0.0.1:{port}/demo.git"
        file_url = f"file://{bare}"
        path = bare
        plain_path = plain
        main_commit = git("rev-parse", "main", cwd=bare).strip()
        dev_commit = git("rev-parse", "dev", cwd=bare).strip()
        requests = httpd.requests
        bodies = httpd.bodies

    yield Repo()
    httpd.shutdown()
    httpd.server_close()


# -- file systems whose transports cannot be reached from here (hf, gcs, abfs) ------------------
class RecordingFS(AbstractFileSystem):
    """Files under `base/<path>`; every constructor call and method call is recorded."""

    protocol = "recording"
    base = ""
    calls: list = []

    def __init__(self, **options):
        super().__init__(**options)
        RecordingFS.calls.append(("init", self.protocol, options))

    @classmethod
    def _strip_protocol(cls, path):
        path = path.split("://", 1)[1] if "://" in path else path
        return path.rstrip("/")

    def _local(self, path):
        return os.path.join(self.base, self._strip_protocol(path))

    def _info(self, path, local):
        kind = "directory" if os.path.isdir(local) else "file"
        return {"name": self._strip_protocol(path), "type": kind, "size": os.path.getsize(local) if kind == "file" else 0}

    def info(self, path, **kwargs):
        RecordingFS.calls.append(("info", path))
        local = self._local(path)
        if not os.path.exists(local):
            raise FileNotFoundError(path)
        return self._info(path, local)

    def find(self, path, maxdepth=None, withdirs=False, detail=False, **kwargs):
        RecordingFS.calls.append(("find", path))
        root = self._local(path)
        if not os.path.isdir(root):
            raise FileNotFoundError(path)
        found = {}
        for folder, _dirs, files in os.walk(root):
            for name in files:
                local = os.path.join(folder, name)
                remote = self._strip_protocol(path) + "/" + os.path.relpath(local, root).replace(os.sep, "/")
                found[remote] = self._info(remote, local)
        return found if detail else sorted(found)

    def get_file(self, rpath, lpath, callback=None, **kwargs):
        RecordingFS.calls.append(("get_file", rpath))
        shutil.copyfile(self._local(rpath), lpath)
        if callback is not None:
            callback.relative_update(os.path.getsize(lpath))


@pytest.fixture
def recording(tmp_path):
    """Register the recording file system for hf, gcs and abfs for one test."""
    from fsspec.registry import _registry

    saved = {p: _registry.get(p) for p in ("hf", "gcs", "abfs")}
    classes = {}
    for protocol in saved:
        classes[protocol] = type(f"Recording_{protocol}", (RecordingFS,), {"protocol": protocol})
        fsspec.register_implementation(protocol, classes[protocol], clobber=True)
    RecordingFS.base = str(tmp_path / "remote")
    RecordingFS.calls = []

    class Recording:
        calls = RecordingFS.calls

        @staticmethod
        def put(rel: str, data: str) -> None:
            path = tmp_path / "remote" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data)

    yield Recording()
    for protocol, cls in saved.items():
        if cls is None:
            _registry.pop(protocol, None)
        else:
            fsspec.register_implementation(protocol, cls, clobber=True)
