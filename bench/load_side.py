"""What runs beside bench/load_test.py's clients: slow clients trickling a body, a /health probe,
and the memory of the server's process tree (workers and their decoding sandboxes). Loopback only;
every loop ends when its ``stop`` event is set or after a bounded count."""
from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

import psutil

from testkit.live_server import call, multipart


class HealthProbe(threading.Thread):
    """GET /health every ``interval_s`` on a new connection (as a load balancer's health check does)
    until ``stop``; a probe that fails or is not 200 counts as ``timeout_s``."""

    def __init__(self, url: str, interval_s: float = 0.1, timeout_s: float = 5.0, max_probes: int = 100_000):
        super().__init__(daemon=True, name="health-probe")
        self.url, self.interval_s, self.timeout_s, self.max_probes = url, interval_s, timeout_s, max_probes
        self.stop, self.seconds, self.at, self.failures = threading.Event(), [], [], 0

    def run(self) -> None:
        begun = time.perf_counter()
        while not self.stop.is_set() and len(self.seconds) < self.max_probes:
            started = time.perf_counter()
            self.at.append(started - begun)
            try:
                ok = call(self.url + "/health", timeout=self.timeout_s)[0] == 200
            except (OSError, ValueError, http.client.HTTPException):
                ok = False
            self.seconds.append(time.perf_counter() - started if ok else self.timeout_s)
            self.failures += not ok
            self.stop.wait(self.interval_s)


def trickle(url: str, body: bytes, content_type: str, request_id: str, seconds: float,
            chunks: int = 50) -> tuple[int | None, dict[str, str], bytes, str | None]:
    """POST ``body`` in ``chunks`` pieces spread over ``seconds``: (status, headers, body, error).
    The status is None when no answer came (the error says why)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=seconds + 60)
    try:
        conn.putrequest("POST", "/")
        for name, value in (("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Accept", "application/json"), ("X-Request-ID", request_id)):
            conn.putheader(name, value)
        conn.endheaders()
        step = -(-len(body) // chunks)
        for i in range(0, len(body), step):
            conn.send(body[i:i + step])
            time.sleep(seconds / chunks)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read(), None
    except (OSError, http.client.HTTPException) as exc:
        return None, {}, b"", type(exc).__name__
    finally:
        conn.close()


class SlowClient(threading.Thread):
    """Sends one upload again and again, each trickled over ``seconds``, until ``stop`` (the upload in
    flight is finished) or ``max_uploads``. ``answers`` holds (request id, seconds, status, headers,
    body, error) per upload, for the caller to check."""

    def __init__(self, name: str, url: str, fields: dict[str, str], image: bytes, seconds: float,
                 max_uploads: int = 20):
        super().__init__(daemon=True, name=name)
        self.url, self.fields, self.image, self.seconds, self.max_uploads = url, fields, image, seconds, max_uploads
        self.stop, self.answers = threading.Event(), []

    def run(self) -> None:
        while not self.stop.is_set() and len(self.answers) < self.max_uploads:
            body, content_type = multipart(self.fields, self.image, "slow.png")
            request_id = f"{self.name}-{len(self.answers)}"
            started = time.perf_counter()
            answer = trickle(self.url, body, content_type, request_id, self.seconds)
            self.answers.append((request_id, time.perf_counter() - started, *answer))


def tree_rss_mb(master_pid: int) -> dict[str, float]:
    """Resident memory of the workers and of their children (the decoding sandboxes), in MB."""
    workers = sandboxes = 0.0
    for worker in psutil.Process(master_pid).children():
        try:
            workers += worker.memory_info().rss
            sandboxes += sum(child.memory_info().rss for child in worker.children(recursive=True))
        except psutil.NoSuchProcess:  # a sandbox replaced just now
            pass
    return {"workers_mb": round(workers / 2**20, 1), "sandboxes_mb": round(sandboxes / 2**20, 1),
            "tree_mb": round((workers + sandboxes) / 2**20, 1)}


def settled_tree_rss_mb(master_pid: int, timeout_s: float = 15.0) -> dict[str, float]:
    """:func:`tree_rss_mb` once every worker has its sandbox again (one replaced after a limit
    restarts in the background, 0.7 s) and two seconds have passed; after ``timeout_s`` whatever it is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = psutil.Process(master_pid).children()
        try:
            if all(w.children() for w in workers):
                break
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.2)
    time.sleep(2.0)
    return tree_rss_mb(master_pid)
