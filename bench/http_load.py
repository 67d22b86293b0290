"""Requests to the app under gunicorn (started by testkit.live_server.gunicorn_server): latency under
concurrent clients."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import requests

from testkit.live_server import GunicornServer, gunicorn_server

# Settings that would make the benchmark measure refusals instead of measurements; the rest of
# this machine's FETALHC_* and GUNICORN_* variables reach the server.
UNSET_FOR_BENCH = ("FETALHC_API_KEY", "FETALHC_RATE_LIMIT")
START_TIMEOUT_S = 300.0


def bench_server(env: dict[str, str], log: Path) -> AbstractContextManager[GunicornServer]:
    """The image's gunicorn on a free loopback port with ``env`` added to ours, its output in ``log``."""
    return gunicorn_server(log, env, unset=UNSET_FOR_BENCH, timeout_s=START_TIMEOUT_S)


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
