"""gunicorn under load and faults: bench/load_test.py's bounded run, a missing or damaged model at
start-up, and a worker killed while it answers."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from fetalhc.paths import PROJECT_ROOT
from testkit.live_server import GunicornServer, call, gunicorn_server, multipart
from testkit.samples import head_phantom, phantom_hc_px, png_bytes

SEMI_AXES = (120, 95)
PHANTOM_PNG = png_bytes(head_phantom(400, 300, SEMI_AXES))


def test_load_test_script_passes(tmp_path):
    """The documented command: 1,000 mixed uploads (valid, invalid, memory and CPU bombs) from 4 clients
    after a warm-up of 100, against 2 workers, while 2 slow clients trickle bodies and a probe polls
    /health: no 5xx, none lost, none mixed up (request ids echoed), /health p99 under 1 s, memory
    growth of the process tree under 10 %, and no traceback, file name or patient field in the log."""
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "bench/load_test.py", "--requests", "1000", "--clients", "4",
                           "--json", str(out)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    run, memory, slow, health = result["run"], result["memory"], result["slow_clients"], result["health"]
    assert run["requests"] == run["answered"] == 1000
    assert run["server_errors_5xx"] == run["lost"] == run["wrong_answers"] == run["duplicate_request_ids"] == 0
    assert set(run["statuses"]) == {"200", "400", "415", "422"}  # the mix really was mixed
    assert sum(run["bombs"].values()) > 20
    assert slow["uploads"] >= 2 and slow["server_errors_5xx"] == slow["lost"] == slow["wrong_answers"] == 0
    assert health["p99_ms"] < 1000 and health["failures"] == 0
    assert memory["growth_pct"] < 10 and not memory["workers_replaced"]
    assert result["tracebacks_in_server_log"] == result["patient_data_in_server_log"] == 0
    assert all(result["checks"].values()), result["checks"]


def assert_measures(server: GunicornServer) -> None:
    status, _, body = call(server.url + "/", *multipart({}, PHANTOM_PNG, "scan.png"))
    assert status == 200, body
    assert body["circumference_px"] == pytest.approx(phantom_hc_px(SEMI_AXES), rel=0.03)


# --- the model missing or damaged at start-up -------------------------------------------------

# Makes TensorFlow unimportable in the server, as in the Docker image (requirements-serve.txt).
_WITHOUT_TENSORFLOW = '''
import importlib.abc, sys

class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, _NoTensorFlow())
'''


def _missing_model(folder, model_dir):
    """An empty model folder, served as the Docker image would: without TensorFlow."""
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_WITHOUT_TENSORFLOW)
    return {"PYTHONPATH": str(site)}


def _damaged_model(folder, model_dir):
    """model.onnx cut to its first kilobyte, beside the real model card."""
    shutil.copy(model_dir / "model_card.json", folder / "model" / "model_card.json")
    (folder / "model" / "model.onnx").write_bytes((model_dir / "model.onnx").read_bytes()[:1024])
    return {}


@pytest.mark.parametrize("break_model, reason", [(_missing_model, "is not installed"),
                                                 (_damaged_model, "damaged or incomplete")],
                         ids=["missing", "damaged"])
def test_broken_model_starts_and_answers_503(model_dir, tmp_path, break_model, reason):
    (tmp_path / "model").mkdir()
    env = break_model(tmp_path, model_dir)
    env = {"GUNICORN_WORKERS": "2", "FETALHC_MODEL_DIR": str(tmp_path / "model"), **env}
    with gunicorn_server(tmp_path / "gunicorn.log", env, temp_dir=tmp_path / "tmp", wait_for=None) as server:
        workers = server.worker_pids()
        for _ in range(4):  # several requests, so that both workers are likely to answer some
            status, _, health = call(server.url + "/health")
            assert (status, health["status"], health["model_loaded"]) == (503, "unhealthy", False)
            assert reason in health["reason"]
            status, _, body = call(server.url + "/", *multipart({}, PHANTOM_PNG, "scan.png"))
            assert (status, body["error"]) == (503, "model_unavailable")
        assert server.process.poll() is None and server.worker_pids() == workers  # nothing crashed or restarted
        assert "Traceback" not in server.log() and "Worker failed to boot" not in server.log()


# --- a worker killed while it answers -----------------------------------------------------------

def _worker_serving(server: GunicornServer, client: socket.socket) -> psutil.Process:
    """The worker that holds ``client``'s connection."""
    port = client.getsockname()[1]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for pid in server.worker_pids():
            try:
                if any(c.raddr and c.raddr.port == port for c in psutil.Process(pid).net_connections("tcp")):
                    return psutil.Process(pid)
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    raise AssertionError("no worker took the connection")


def test_killed_worker_is_replaced_and_the_service_keeps_answering(model_dir, tmp_path):
    env = {"GUNICORN_WORKERS": "2", "FETALHC_MODEL_DIR": str(model_dir)}
    with gunicorn_server(tmp_path / "gunicorn.log", env, temp_dir=tmp_path / "tmp") as server:
        assert_measures(server)
        workers = server.worker_pids()
        body, content_type = multipart({}, PHANTOM_PNG, "scan.png")
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as client:
            # Half the upload: the worker is inside the request, waiting for the rest.
            client.sendall(f"POST / HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
                           f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                           + body[:len(body) // 2])
            victim = _worker_serving(server, client)
            os.kill(victim.pid, signal.SIGKILL)
            try:
                answer = client.recv(1024)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # the request in flight is lost with its worker, and only it
        deadline = time.monotonic() + 30
        pids = server.worker_pids()  # one reading per check: /proc can change between two
        while not (len(pids) == 2 and victim.pid not in pids):
            assert time.monotonic() < deadline, server.log()[-3000:]
            time.sleep(0.1)
            pids = server.worker_pids()
        assert len(pids - workers) == 1  # one new worker, the other one untouched
        for _ in range(6):
            assert_measures(server)
        assert server.process.poll() is None
