"""The app under gunicorn, as deployed: start-up, latency under concurrent clients, memory."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from fetalhc.paths import PROJECT_ROOT

# Settings that would make the benchmark measure refusals instead of measurements.
UNSET_FOR_BENCH = ("FETALHC_API_KEY", "FETALHC_RATE_LIMIT")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    started: float          # perf_counter() just before the gunicorn process was started
    health_s: float         # seconds from start to /health answering 200

    def worker_rss_mb(self) -> list[float]:
        return [child.memory_info().rss / 2**20 for child in psutil.Process(self.process.pid).children()]

    def master_rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn_server(env: dict[str, str], log: Path, timeout_s: float = 300.0) -> Iterator[Server]:
    """``gunicorn -c gunicorn.conf.py app:app`` on a free loopback port, with ``env`` added to ours."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if k not in UNSET_FOR_BENCH} | {"PORT": str(port)} | env
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:app"],
            cwd=PROJECT_ROOT, env=full_env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            yield Server(url, process, started, _wait_healthy(url, process, started, timeout_s, log))
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen, started: float, timeout_s: float, log: Path) -> float:
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or the worker still loading
            pass
        time.sleep(0.02)
    raise RuntimeError(f"/health did not answer 200 within {timeout_s:.0f} s; see {log}")


def post_image(session: requests.Session, url: str, data: bytes, pixel_size_mm: float, overlay: bool) -> float:
    """One JSON measurement request; its latency in seconds. A failed request stops the benchmark."""
    fields = {"pixel_size_mm": str(pixel_size_mm)} | ({"overlay": "1"} if overlay else {})
    started = time.perf_counter()
    response = session.post(f"{url}/", files={"image": ("sample.png", data, "image/png")}, data=fields,
                            headers={"Accept": "application/json"}, timeout=120)
    seconds = time.perf_counter() - started
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    if response.status_code != 200 or body.get("status") != "success" or overlay != ("overlay_png_base64" in body):
        raise RuntimeError(f"POST / answered {response.status_code}: {response.text[:300]}")
    return seconds


def run_clients(url: str, data: bytes, pixel_size_mm: float, clients: int, requests_total: int,
                overlay: bool) -> tuple[list[float], float]:
    """``clients`` threads, each with its own session, sharing ``requests_total`` requests.

    Returns every request's latency and the wall time of the whole run.
    """
    def client(n: int) -> list[float]:
        with requests.Session() as session:
            return [post_image(session, url, data, pixel_size_mm, overlay) for _ in range(n)]

    shares = [requests_total // clients + (i < requests_total % clients) for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [s for part in pool.map(client, shares) for s in part]
    return latencies, time.perf_counter() - started
