"""The Docker image's start command run here: gunicorn with gunicorn.conf.py on a free loopback
port, its log in a file, and plain HTTP calls to it (the tests and the benchmarks)."""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from fetalhc.paths import PROJECT_ROOT
from testkit.dockerfile import start_command

# Variables of this machine that would change what the server does; none reaches it by default.
SERVER_SETTINGS = ("FETALHC_", "GUNICORN_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def multipart(fields: dict[str, str], image: bytes, filename: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode() + image + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def call(url: str, body: bytes | None = None, content_type: str | None = None,
         timeout: float = 30) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of a GET, or of a POST of ``body``."""
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@dataclass
class GunicornServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    started: float           # perf_counter() just before gunicorn was started
    temp: Path | None = None
    health_s: float = 0.0    # seconds from the start until /health answered as awaited

    def worker_pids(self) -> set[int]:
        return {child.pid for child in psutil.Process(self.process.pid).children()}

    def worker_rss_mb(self) -> list[float]:
        return [child.memory_info().rss / 2**20 for child in psutil.Process(self.process.pid).children()]

    def master_rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def gunicorn_server(log_path: Path, env: Mapping[str, str] | None = None, *, temp_dir: Path | None = None,
                    unset: tuple[str, ...] = SERVER_SETTINGS, wait_for: int | None = 200,
                    timeout_s: float = 60.0) -> Iterator[GunicornServer]:
    """gunicorn started exactly as the image starts it, with its output in ``log_path``.

    The server gets this process's environment without the variables starting with one of
    ``unset``, plus ``env``; with ``temp_dir`` (created) as its TMPDIR. It is ready once
    ``/health`` answers ``wait_for`` (None: any status); a server that exits or is not ready
    within ``timeout_s`` raises RuntimeError with the end of its log.
    """
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    # GUNICORN_CMD_ARGS overrides the config file's 0.0.0.0 bind without changing the command line.
    full_env.update(PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}", **(env or {}))
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        full_env["TMPDIR"] = str(temp_dir)
    command = start_command()
    command[0] = str(Path(sys.executable).with_name(command[0]))  # this virtualenv's gunicorn
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = GunicornServer(f"http://127.0.0.1:{port}", process, log_path, started, temp_dir)
    try:
        server.health_s = _wait_ready(server, wait_for, timeout_s)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: GunicornServer, wait_for: int | None, timeout_s: float) -> float:
    while time.perf_counter() - server.started < timeout_s:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log()[-3000:]}")
        try:
            if wait_for in (None, call(server.url + "/health", timeout=1)[0]):
                return time.perf_counter() - server.started
        except (OSError, ValueError, http.client.HTTPException):  # not listening yet, or still loading
            pass
        time.sleep(0.02)
    raise RuntimeError(f"/health did not answer {wait_for} within {timeout_s:.0f} s:\n{server.log()[-3000:]}")
