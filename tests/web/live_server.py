"""The Docker image's start command run here: gunicorn with gunicorn.conf.py on a free loopback
port, its own temp folder and log, and plain HTTP calls to it."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from dockerfile_spec import start_command

from fetalhc.paths import PROJECT_ROOT

START_TIMEOUT_S = 60


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


def call(url: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict, dict]:
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    temp: Path

    def worker_pids(self) -> set[int]:
        return {child.pid for child in psutil.Process(self.process.pid).children()}

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def live_gunicorn(folder: Path, wait_for: int | None = 200, **env: str) -> Iterator[LiveServer]:
    """gunicorn started exactly as the image starts it, with ``env`` (``FETALHC_*``, ``GUNICORN_*``)
    instead of the machine's; ready once ``/health`` answers ``wait_for`` (None: any status)."""
    port = free_port()
    temp = folder / "tmp"
    temp.mkdir()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FETALHC_", "GUNICORN_"))}
    # GUNICORN_CMD_ARGS overrides the config file's 0.0.0.0 bind without changing the command line.
    full_env.update(PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}", TMPDIR=str(temp), **env)
    command = start_command()
    command[0] = str(Path(sys.executable).with_name(command[0]))  # this virtualenv's gunicorn
    log_path = folder / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path, temp)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, server.log()[-3000:]
            try:
                if wait_for in (None, call(server.url + "/health")[0]):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not become ready:\n" + server.log()[-3000:]
            time.sleep(0.25)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
