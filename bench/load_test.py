"""Bounded load test of the production server: ``python bench/load_test.py --requests 1000 --clients 4``.

Starts ``gunicorn -c gunicorn.conf.py app:app`` on a free loopback port (testkit/live_server.py),
sends a fixed number of uploads from ``--clients`` threads, stops the server and exits.

The uploads mix head phantoms of four sizes (PNG, JPEG, calibrated DICOM, PNG with a typed pixel
size) with invalid uploads whose answers are known (text, truncated PNG, out-of-range field, a
frame that does not exist, DICOM without an image, no file, a black image). Each phantom is first
sent alone; under load every answer must be its own upload's: the expected status and error
code, and for a measurement the same image size and exactly the HC it got alone. Request ids must
all differ. Worker memory (RSS) is read after ``--warmup`` requests and at the end.

Prints a summary and writes every figure as JSON. Exits 1 when an answer was a 5xx, was lost or
was not its upload's own, when a worker was replaced, when worker memory grew by more than
``--max-growth-pct`` after the warm-up, or when the server log holds a traceback, the upload's
file name or a patient field of the DICOM uploads.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shlex
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
import requests
from PIL import Image

from http_load import bench_server
from timing import percentile, summary_ms

# The test suite's upload builders: the load test sends what the tests check.
from testkit.samples import (PATIENT_FIELDS, PATIENT_FILE_NAME, black_png, dicom_bytes, dicom_without_image,
                             head_phantom, phantom_hc_px, pil_bytes, png_bytes)

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Upload:
    """One kind of request and the answer it must get; ``code`` None is a measurement."""

    name: str
    data: bytes | None                      # None: the request has no file
    status: int
    code: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    size: tuple[int, int] | None = None     # (width, height) of a measured image
    mm_per_px: float | None = None          # the calibration a measurement must use
    semi_axes: tuple[int, int] | None = None
    weight: int = 1                         # copies in each round of the mix


def uploads() -> list[Upload]:
    """Four phantoms of distinct sizes, each twice per round, and seven invalid uploads."""
    def phantom(name: str, width: int, height: int, axes: tuple[int, int], encode: Callable[[np.ndarray], bytes],
                mm_per_px: float | None = None, fields: dict[str, str] | None = None) -> Upload:
        return Upload(name, encode(head_phantom(width, height, axes)), 200, fields=fields or {},
                      size=(width, height), mm_per_px=mm_per_px, semi_axes=axes, weight=2)

    plain = png_bytes(head_phantom(400, 300, (120, 95)))
    return [
        phantom("PNG 400x300", 400, 300, (120, 95), png_bytes),
        phantom("JPEG 800x540", 800, 540, (220, 170), lambda p: pil_bytes(Image.fromarray(p), "JPEG", quality=95)),
        phantom("DICOM 600x450, 0.2 mm", 600, 450, (150, 130), lambda p: dicom_bytes(p, 0.2), mm_per_px=0.2),
        phantom("PNG 320x320, typed 0.1 mm", 320, 320, (100, 80), png_bytes, mm_per_px=0.1,
                fields={"pixel_size_mm": "0.1", "ga_weeks": "20"}),
        Upload("text", b"not an image at all\n" * 10, 415, "unsupported_image"),
        Upload("truncated PNG", plain[:4000], 415, "unsupported_image"),
        Upload("pixel size 5 mm", plain, 400, "invalid_field", {"pixel_size_mm": "5"}),
        Upload("frame 3 of a PNG", plain, 400, "invalid_frame", {"frame": "3"}),
        Upload("DICOM without image", dicom_without_image(), 415, "unsupported_image"),
        Upload("no file", None, 400, "missing_image"),
        Upload("black PNG", black_png(), 422, "no_head_found"),
    ]


def plan(kinds: list[Upload], count: int, seed: int) -> list[Upload]:
    """``count`` requests: rounds of the weighted mix, each round in its own shuffled order."""
    rng, out = random.Random(seed), []
    while len(out) < count:
        round_ = [u for u in kinds for _ in range(u.weight)]
        rng.shuffle(round_)
        out.extend(round_)
    return out[:count]


@dataclass
class Outcome:
    kind: str
    seconds: float
    status: int | None = None       # None: no answer (connection failed or timed out)
    request_id: str | None = None
    hc_px: float | None = None
    problem: str | None = None      # why this is not the upload's own answer


def send(session: requests.Session, url: str, upload: Upload) -> Outcome:
    # Under a file name that names a patient (and the DICOMs hold patient fields): the log must show neither.
    files = None if upload.data is None else {"image": (PATIENT_FILE_NAME, upload.data, "application/octet-stream")}
    started = time.perf_counter()
    try:
        response = session.post(url + "/", files=files, data=upload.fields, timeout=120,
                                headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        return Outcome(upload.name, time.perf_counter() - started, problem=f"no answer ({type(exc).__name__})")
    outcome = Outcome(upload.name, time.perf_counter() - started, response.status_code,
                      response.headers.get("X-Request-ID"))
    try:
        body = response.json()
    except ValueError:
        outcome.problem = f"{response.status_code}, not JSON"
        return outcome
    outcome.hc_px = body.get("circumference_px")
    outcome.problem = check(upload, body, response)
    return outcome


def check(upload: Upload, body: dict, response: requests.Response) -> str | None:
    """Why ``body`` is not the answer to ``upload`` (its own reference HC aside); None when it is."""
    if (response.status_code, body.get("error")) != (upload.status, upload.code):
        return f"{response.status_code} {body.get('error')}, expected {upload.status} {upload.code}"
    if upload.code is not None:
        return None
    if body["request_id"] != response.headers.get("X-Request-ID"):
        return "the body's request id is not the header's"
    if (body["image"]["width"], body["image"]["height"]) != upload.size:
        return f"an answer for a {body['image']['width']}x{body['image']['height']} image"
    if abs(body["circumference_px"] / phantom_hc_px(upload.semi_axes) - 1) > 0.03:
        return f"HC {body['circumference_px']} px is not this phantom's"
    got_mm = body["circumference_mm"]
    if upload.mm_per_px is None:
        return None if got_mm is None else "millimetres without a calibration"
    expected_mm = upload.mm_per_px * body["circumference_px"]  # both rounded to 0.01 in the answer
    if got_mm is None or abs(got_mm - expected_mm) > 0.011:
        return f"HC {got_mm} mm, expected {expected_mm:.2f}"
    return None


def run_clients(url: str, requests_: list[Upload], clients: int, reference_px: dict[str, float]) -> list[Outcome]:
    """``clients`` threads, each with its own connection, take requests in order until none is left.
    A measurement must report exactly the HC its image got when sent alone."""
    todo: queue.SimpleQueue[Upload] = queue.SimpleQueue()
    for upload in requests_:
        todo.put(upload)
    outcomes: list[Outcome] = []

    def client() -> None:
        with requests.Session() as session:
            while True:
                try:
                    upload = todo.get_nowait()
                except queue.Empty:
                    return
                outcome = send(session, url, upload)
                if outcome.problem is None and upload.code is None and outcome.hc_px != reference_px[upload.name]:
                    outcome.problem = f"HC {outcome.hc_px} px, but {reference_px[upload.name]} when sent alone"
                outcomes.append(outcome)  # list.append is atomic

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def reference_answers(url: str, kinds: list[Upload]) -> dict[str, float]:
    """Each phantom's HC in pixels, sent alone; raises when one is not measured as expected."""
    reference = {}
    with requests.Session() as session:
        for upload in kinds:
            if upload.code is None:
                outcome = send(session, url, upload)
                if outcome.problem:
                    raise RuntimeError(f"{upload.name} sent alone: {outcome.problem}")
                reference[upload.name] = outcome.hc_px
    if len(set(reference.values())) != len(reference):
        raise RuntimeError(f"two phantoms have the same HC, so a mix-up could go unseen: {reference}")
    return reference


def worker_rss_mb(master_pid: int) -> dict[int, float]:
    return {c.pid: round(c.memory_info().rss / 2**20, 1) for c in psutil.Process(master_pid).children()}


def summarise(outcomes: list[Outcome], wall_s: float) -> dict:
    answered = [o for o in outcomes if o.status is not None]
    ids = [o.request_id for o in answered]
    problems = Counter(f"{o.kind}: {o.problem}" for o in outcomes if o.problem)
    return {
        "requests": len(outcomes),
        "answered": len(answered),
        "lost": len(outcomes) - len(answered),
        "server_errors_5xx": sum(o.status >= 500 for o in answered),
        "wrong_answers": sum(o.problem is not None for o in answered),
        "duplicate_request_ids": len(ids) - len(set(ids)),
        "statuses": dict(sorted(Counter(str(o.status) for o in outcomes).items())),
        "problems": dict(problems.most_common(10)),
        "latency_ms": {**summary_ms([o.seconds for o in outcomes]),
                       "p99_ms": round(1000 * percentile([o.seconds for o in outcomes], 99), 1),
                       "max_ms": round(1000 * max(o.seconds for o in outcomes), 1)},
        "latency_ms_measured": summary_ms([o.seconds for o in outcomes if o.status == 200] or [0.0]),
        "latency_ms_rejected": summary_ms([o.seconds for o in outcomes if o.status != 200] or [0.0]),
        "wall_s": round(wall_s, 1),
        "requests_per_s": round(len(outcomes) / wall_s, 1),
    }


def memory_section(start: dict[int, float], warm: dict[int, float], end: dict[int, float]) -> dict:
    warm_total, end_total = sum(warm.values()), sum(end.values())
    return {"workers_rss_mb_start": start, "workers_rss_mb_after_warmup": warm, "workers_rss_mb_end": end,
            "total_mb_after_warmup": round(warm_total, 1), "total_mb_end": round(end_total, 1),
            "growth_pct": round(100 * (end_total - warm_total) / warm_total, 2),
            "workers_replaced": set(start) != set(end)}


def print_summary(result: dict) -> None:
    r, m, lat = result["run"], result["memory"], result["run"]["latency_ms"]
    rows = [
        ("requests (after warm-up)", f"{r['requests']} from {result['clients']} clients, {result['workers']} workers"),
        ("answers by status", ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())),
        ("5xx / lost / wrong answers", f"{r['server_errors_5xx']} / {r['lost']} / {r['wrong_answers']}"),
        ("duplicate request ids", r["duplicate_request_ids"]),
        ("latency p50 / p95 / p99 / max", f"{lat['p50_ms']} / {lat['p95_ms']} / {lat['p99_ms']} / {lat['max_ms']} ms"),
        ("measured (200) p50 / p95", f"{r['latency_ms_measured']['p50_ms']} / {r['latency_ms_measured']['p95_ms']} ms"),
        ("rejected (4xx) p50 / p95", f"{r['latency_ms_rejected']['p50_ms']} / {r['latency_ms_rejected']['p95_ms']} ms"),
        ("throughput", f"{r['requests_per_s']} requests/s over {r['wall_s']} s"),
        ("worker RSS start / warm / end", f"{sum(m['workers_rss_mb_start'].values()):.0f} / "
                                          f"{m['total_mb_after_warmup']:.0f} / {m['total_mb_end']:.0f} MB"),
        ("memory growth after warm-up", f"{m['growth_pct']} % (limit {result['max_growth_pct']} %)"),
        ("workers replaced", m["workers_replaced"]),
        ("tracebacks / patient data in log", f"{result['tracebacks_in_server_log']} / "
                                             f"{result['patient_data_in_server_log']}"),
        ("result", "PASS" if result["passed"] else "FAIL"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    for problem, n in r["problems"].items():
        print(f"  {n} x {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests after the warm-up (default 1000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--warmup", type=int, default=100, help="requests before the first memory reading")
    parser.add_argument("--workers", type=int, default=2, help="GUNICORN_WORKERS (default 2, as deployed)")
    parser.add_argument("--max-growth-pct", type=float, default=10.0,
                        help="largest accepted growth of worker memory after the warm-up (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="order of the mix")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "load_test.json")
    args = parser.parse_args(argv)

    kinds = uploads()
    log = args.json.with_suffix(".gunicorn.log")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    with bench_server({"GUNICORN_WORKERS": str(args.workers)}, log) as server:
        start = worker_rss_mb(server.process.pid)
        reference = reference_answers(server.url, kinds)
        warmup = run_clients(server.url, plan(kinds, args.warmup, args.seed + 1), args.clients, reference)
        warm = worker_rss_mb(server.process.pid)
        started = time.perf_counter()
        outcomes = run_clients(server.url, plan(kinds, args.requests, args.seed), args.clients, reference)
        wall_s = time.perf_counter() - started
        end = worker_rss_mb(server.process.pid)
    run = summarise(outcomes, wall_s)
    memory = memory_section(start, warm, end)
    warmup_problems = sum(o.problem is not None for o in warmup)
    server_log = log.read_text()
    result = {
        "command": shlex.join([Path(sys.executable).name, "bench/load_test.py", *(argv or sys.argv[1:])]),
        "requests": args.requests, "clients": args.clients, "workers": args.workers, "warmup": args.warmup,
        "max_growth_pct": args.max_growth_pct,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_end": round(os.getloadavg()[0], 2)},
        "uploads": {u.name: {"status": u.status, "error": u.code, "share": u.weight} for u in kinds},
        "reference_hc_px": reference,
        "run": run, "memory": memory, "warmup_wrong_answers": warmup_problems,
        "tracebacks_in_server_log": server_log.count("Traceback"),
        "patient_data_in_server_log": sum(server_log.count(s) for s in (*PATIENT_FIELDS, PATIENT_FILE_NAME)),
    }
    result["passed"] = (run["server_errors_5xx"] == run["lost"] == run["wrong_answers"] == 0
                        and run["duplicate_request_ids"] == 0 and warmup_problems == 0
                        and not memory["workers_replaced"] and memory["growth_pct"] < args.max_growth_pct
                        and result["tracebacks_in_server_log"] == result["patient_data_in_server_log"] == 0)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print(f"JSON: {args.json}; server log: {log}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
