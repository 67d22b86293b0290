"""The Docker image's start command, run here: gunicorn with gunicorn.conf.py, spoken to over HTTP."""
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
from pathlib import Path

import pytest
from dockerfile_spec import start_command
from web_samples import PATIENT_FIELDS, PATIENT_FILE_NAME, dicom_bytes, hc18_pixels, hc18_reference

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


@pytest.fixture
def gunicorn(model_dir, tmp_path):
    """gunicorn started exactly as the image starts it, on a free loopback port, with its own temp folder."""
    port = free_port()
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FETALHC_", "GUNICORN_"))}
    # GUNICORN_CMD_ARGS overrides the config file's 0.0.0.0 bind without changing the command line.
    env.update(PORT=str(port), GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}", GUNICORN_WORKERS="1",
               FETALHC_MODEL_DIR=str(model_dir), TMPDIR=str(temp))
    command = start_command()
    command[0] = str(Path(sys.executable).with_name(command[0]))  # this virtualenv's gunicorn
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, log_path.read_text()[-3000:]
            try:
                if call(url + "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not become healthy:\n" + log_path.read_text()[-3000:]
            time.sleep(0.25)
        yield url, log_path, temp
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_gunicorn_serves_health_measurements_and_errors(gunicorn, hc18):
    url, log_path, temp = gunicorn
    temp_after_start = snapshot(temp)

    status, headers, health = call(url + "/health")
    assert status == 200 and health["status"] == "healthy" and health["model_loaded"] is True
    assert headers["X-Content-Type-Options"] == "nosniff"

    _, pixel_mm, reference_mm = hc18_reference(hc18)
    dicom = dicom_bytes(hc18_pixels(hc18), pixel_spacing_mm=pixel_mm)
    status, headers, body = call(url + "/", *multipart({"overlay": "1"}, dicom, PATIENT_FILE_NAME))
    assert status == 200, body
    assert body["circumference_mm"] == pytest.approx(reference_mm, abs=4.0)
    assert body["request_id"] == headers["X-Request-ID"] and body["overlay_png_base64"]
    request_id = body["request_id"]

    status, _, body = call(url + "/", *multipart({}, b"%PDF-1.7 not an image", PATIENT_FILE_NAME))
    assert (status, body["error"]) == (415, "unsupported_image")

    assert snapshot(temp) == temp_after_start  # nothing spooled to the temp folder
    log = log_path.read_text()
    assert f"request_id={request_id}" in log  # the worker's request log reaches gunicorn's stderr
    assert "unhandled" not in log and "Traceback" not in log
    for secret in (*PATIENT_FIELDS, PATIENT_FILE_NAME):
        assert secret not in log
