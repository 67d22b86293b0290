"""Bounded load test of the production server: ``python bench/load_test.py --requests 1000 --clients 4``.

Starts ``gunicorn -c gunicorn.conf.py app:app`` on a free loopback port (testkit/live_server.py),
sends a fixed number of uploads from ``--clients`` threads, stops the server and exits.

The uploads mix head phantoms of four sizes (PNG, JPEG, calibrated DICOM, PNG with a typed pixel
size) with invalid uploads whose answers are known (text, truncated PNG, out-of-range field, a
frame that does not exist, DICOM without an image, no file, a black image, damaged codestreams, a
PNG bomb, a TIFF of 5,000 pages) and, in some rounds, the memory and CPU bombs of the tests
(testkit/bombs.py: a Deflated DICOM inflating to 600 MB, a TIFF of one 2 GB tile, a JPEG of 20,000
scans, a DICOM holding a 12000x12000 JPEG, an RLE BMP that takes seconds, a float32 TIFF).
Meanwhile ``--slow-clients`` clients each trickle a phantom's body over ``--slow-seconds``, again
and again until the run ends, and a probe polls ``/health`` every 0.1 s.

Each phantom is first sent alone; under load every answer must be its own upload's: the request id
the client sent, echoed in the header and the body; the expected status and error code (for a
bomb, the limit its message names); for a measurement the same image size and exactly the HC it
got alone. Memory is the resident memory of the server's process tree (workers and their decoding
sandboxes), read at the start, after ``--warmup`` requests and at the end, each time once every
sandbox is up.

Prints a summary and its checks, and writes every figure as JSON. Exits 1 when a check fails: an
answer was a 5xx, was lost or was not its upload's own (the slow clients' included), a worker was
replaced, the tree's memory grew by more than ``--max-growth-pct`` after the warm-up, ``/health``
answered slower than ``--max-health-p99-s`` at the 99th percentile (or failed), or the server log
holds a traceback, the upload's file name or a patient field of the DICOM uploads.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import shlex
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from requests.structures import CaseInsensitiveDict

from http_load import bench_server
from load_mix import Upload, plan, uploads
from load_side import HealthProbe, SlowClient, settled_tree_rss_mb
from timing import percentile, summary_ms

from testkit.samples import PATIENT_FIELDS, PATIENT_FILE_NAME, phantom_hc_px

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Outcome:
    kind: str
    seconds: float
    status: int | None = None       # None: no answer (connection failed or timed out)
    request_id: str | None = None
    hc_px: float | None = None
    problem: str | None = None      # why this is not the upload's own answer


_REQUEST_IDS = itertools.count()


def send(session: requests.Session, url: str, upload: Upload) -> Outcome:
    # Under a file name that names a patient (and the DICOMs hold patient fields): the log must show neither.
    files = None if upload.data is None else {"image": (PATIENT_FILE_NAME, upload.data, "application/octet-stream")}
    request_id = f"lt-{next(_REQUEST_IDS)}"
    started = time.perf_counter()
    try:
        response = session.post(url + "/", files=files, data=upload.fields, timeout=120,
                                headers={"Accept": "application/json", "X-Request-ID": request_id})
    except requests.RequestException as exc:
        return Outcome(upload.name, time.perf_counter() - started, problem=f"no answer ({type(exc).__name__})")
    return judge(upload, request_id, time.perf_counter() - started, response.status_code, response.headers,
                 response.content)


def judge(upload: Upload, request_id: str, seconds: float, status: int, headers, content: bytes) -> Outcome:
    """The outcome of one answer, with why it is not ``upload``'s own (its reference HC aside)."""
    headers = CaseInsensitiveDict(headers)
    outcome = Outcome(upload.name, seconds, status, headers.get("X-Request-ID"))
    try:
        body = json.loads(content)
    except ValueError:
        outcome.problem = f"{status}, not JSON"
        return outcome
    outcome.hc_px = body.get("circumference_px")
    outcome.problem = check(upload, body, status, headers, request_id)
    return outcome


def check(upload: Upload, body: dict, status: int, headers, request_id: str) -> str | None:
    """Why ``body`` is not the answer to ``upload`` (its own reference HC aside); None when it is."""
    if (headers.get("X-Request-ID"), body.get("request_id")) != (request_id, request_id):
        return f"request id {request_id} answered as {headers.get('X-Request-ID')} / {body.get('request_id')}"
    answers = [(upload.status, upload.code, upload.limit), *([upload.alternative] if upload.alternative else [])]
    expected = next((a for a in answers if a[:2] == (status, body.get("error"))), None)
    if expected is None:
        return f"{status} {body.get('error')}, expected {' or '.join(f'{a[0]} {a[1]}' for a in answers)}"
    if expected[2] and f"{expected[2]} limit" not in body.get("message", ""):
        return f"{status} not naming the {expected[2]} limit: {body.get('message', '')[:80]}"
    if upload.code is not None:
        return None
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
                outcomes.append(as_alone(send(session, url, upload), upload, reference_px))  # append is atomic

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def as_alone(outcome: Outcome, upload: Upload, reference_px: dict[str, float]) -> Outcome:
    """``outcome``, with a problem when its measurement is not exactly the one its image got alone."""
    if outcome.problem is None and outcome.status == 200 and outcome.hc_px != reference_px[upload.name]:
        outcome.problem = f"HC {outcome.hc_px} px, but {reference_px[upload.name]} when sent alone"
    return outcome


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


def worker_pids(master_pid: int) -> set[int]:
    return {c.pid for c in psutil.Process(master_pid).children()}


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
        "bombs": dict(sorted(Counter(f"{o.kind} -> {o.status}" for o in outcomes
                                     if o.kind.startswith("bomb")).items())),
        "problems": dict(problems.most_common(10)),
        "latency_ms": {**summary_ms([o.seconds for o in outcomes]),
                       "p99_ms": round(1000 * percentile([o.seconds for o in outcomes], 99), 1),
                       "max_ms": round(1000 * max(o.seconds for o in outcomes), 1)},
        "latency_ms_measured": summary_ms([o.seconds for o in outcomes if o.status == 200] or [0.0]),
        "latency_ms_rejected": summary_ms([o.seconds for o in outcomes if o.status != 200] or [0.0]),
        "wall_s": round(wall_s, 1),
        "requests_per_s": round(len(outcomes) / wall_s, 1),
    }


def slow_section(clients: list[SlowClient], upload: Upload, reference: dict[str, float]) -> dict:
    outcomes = []
    for client in clients:
        for request_id, seconds, status, headers, content, error in client.answers:
            outcomes.append(Outcome(upload.name, seconds, problem=f"no answer ({error})") if status is None else
                            as_alone(judge(upload, request_id, seconds, status, headers, content), upload, reference))
    return {"clients": len(clients), "uploads": len(outcomes),
            "lost": sum(o.status is None for o in outcomes),
            "server_errors_5xx": sum((o.status or 0) >= 500 for o in outcomes),
            "wrong_answers": sum(o.problem is not None for o in outcomes),
            "problems": dict(Counter(o.problem for o in outcomes if o.problem).most_common(5)),
            "seconds_each": [round(o.seconds, 1) for o in outcomes]}


def health_section(probe: HealthProbe) -> dict:
    times = probe.seconds or [float("inf")]
    return {"probes": len(probe.seconds), "failures": probe.failures,
            "p50_ms": round(1000 * percentile(times, 50), 1), "p99_ms": round(1000 * percentile(times, 99), 1),
            "max_ms": round(1000 * max(times), 1),
            "slowest": [(round(at, 1), round(1000 * t, 1)) for t, at in sorted(zip(probe.seconds, probe.at))[-5:]]}


def memory_section(start: dict, warm: dict, end: dict, pids_start: set[int], pids_end: set[int]) -> dict:
    return {"start": start, "after_warmup": warm, "end": end,
            "total_mb_after_warmup": warm["tree_mb"], "total_mb_end": end["tree_mb"],
            "growth_pct": round(100 * (end["tree_mb"] - warm["tree_mb"]) / warm["tree_mb"], 2),
            "workers_growth_pct": round(100 * (end["workers_mb"] - warm["workers_mb"]) / warm["workers_mb"], 2),
            "workers_replaced": pids_start != pids_end}


def checks(result: dict, args: argparse.Namespace) -> dict[str, bool]:
    r, slow, health, m = result["run"], result["slow_clients"], result["health"], result["memory"]
    return {
        "0 server errors (5xx)": r["server_errors_5xx"] == slow["server_errors_5xx"] == 0,
        "0 lost answers": r["lost"] == slow["lost"] == 0,
        "0 mixed-up answers": r["wrong_answers"] == slow["wrong_answers"] == result["warmup_wrong_answers"] == 0
        and r["duplicate_request_ids"] == 0,
        f"slow clients answered ({args.slow_clients})": slow["uploads"] >= args.slow_clients,
        f"/health p99 < {args.max_health_p99_s:g} s, none failed":
            health["p99_ms"] < 1000 * args.max_health_p99_s and health["failures"] == 0,
        f"memory growth < {args.max_growth_pct:g} %": m["growth_pct"] < args.max_growth_pct,
        "no worker replaced": not m["workers_replaced"],
        "log: no traceback or patient data": result["tracebacks_in_server_log"] ==
                                             result["patient_data_in_server_log"] == 0,
    }


def print_summary(result: dict) -> None:
    r, m, lat = result["run"], result["memory"], result["run"]["latency_ms"]
    slow, health = result["slow_clients"], result["health"]

    def tree(key: str) -> str:
        return f"{m[key]['tree_mb']:.0f} ({m[key]['workers_mb']:.0f} + {m[key]['sandboxes_mb']:.0f})"

    rows = [
        ("requests (after warm-up)", f"{r['requests']} from {result['clients']} clients, {result['workers']} workers"),
        ("answers by status", ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())),
        ("5xx / lost / wrong answers", f"{r['server_errors_5xx']} / {r['lost']} / {r['wrong_answers']}"),
        ("bombs sent", sum(r["bombs"].values())),
        ("latency p50 / p95 / p99 / max", f"{lat['p50_ms']} / {lat['p95_ms']} / {lat['p99_ms']} / {lat['max_ms']} ms"),
        ("measured (200) p50 / p95", f"{r['latency_ms_measured']['p50_ms']} / {r['latency_ms_measured']['p95_ms']} ms"),
        ("rejected (4xx) p50 / p95", f"{r['latency_ms_rejected']['p50_ms']} / {r['latency_ms_rejected']['p95_ms']} ms"),
        ("throughput", f"{r['requests_per_s']} requests/s over {r['wall_s']} s"),
        ("slow clients: uploads / 5xx / lost / wrong",
         f"{slow['uploads']} / {slow['server_errors_5xx']} / {slow['lost']} / {slow['wrong_answers']} "
         f"({slow['clients']} clients, {result['slow_seconds']:g} s trickle each)"),
        ("/health probes p50 / p99 / max", f"{health['p50_ms']} / {health['p99_ms']} / {health['max_ms']} ms "
                                           f"({health['probes']} probes, {health['failures']} failed)"),
        ("tree RSS (workers + sandboxes) MB", f"start {tree('start')}, after warm-up {tree('after_warmup')}, "
                                              f"end {tree('end')}"),
        ("memory growth after warm-up", f"{m['growth_pct']} % tree, {m['workers_growth_pct']} % workers"),
        ("tracebacks / patient data in log", f"{result['tracebacks_in_server_log']} / "
                                             f"{result['patient_data_in_server_log']}"),
    ]
    rows += [(f"check: {name}", "PASS" if ok else "FAIL") for name, ok in result["checks"].items()]
    rows.append(("result", "PASS" if result["passed"] else "FAIL"))
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))
    for kind, n in r["bombs"].items():
        print(f"  {n} x {kind}")
    for problem, n in {**r["problems"], **slow["problems"]}.items():
        print(f"  problem, {n} x {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests after the warm-up (default 1000)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--warmup", type=int, default=100, help="requests before the first memory reading")
    parser.add_argument("--workers", type=int, default=2, help="GUNICORN_WORKERS (default 2, as deployed)")
    parser.add_argument("--slow-clients", type=int, default=2, help="clients trickling bodies (default 2)")
    parser.add_argument("--slow-seconds", type=float, default=15.0,
                        help="seconds each slow upload's body takes (default 15)")
    parser.add_argument("--max-growth-pct", type=float, default=10.0,
                        help="largest accepted growth of the process tree's memory after the warm-up (default 10)")
    parser.add_argument("--max-health-p99-s", type=float, default=1.0, help="largest accepted /health p99 (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="order of the mix")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "load_test.json")
    args = parser.parse_args(argv)

    kinds = uploads()
    slow_upload = kinds[0]
    log = args.json.with_suffix(".gunicorn.log")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    with bench_server({"GUNICORN_WORKERS": str(args.workers)}, log) as server:
        master = server.process.pid
        pids_start, start = worker_pids(master), settled_tree_rss_mb(master)
        reference = reference_answers(server.url, kinds)
        warmup_plan = plan(kinds, args.warmup, args.seed + 1, warmup=True)
        warmup = run_clients(server.url, warmup_plan, args.clients, reference)
        warm = settled_tree_rss_mb(master)
        probe = HealthProbe(server.url)
        slow = [SlowClient(f"slow-{i}", server.url, slow_upload.fields, slow_upload.data, args.slow_seconds)
                for i in range(args.slow_clients)]
        for thread in (probe, *slow):
            thread.start()
        started = time.perf_counter()
        outcomes = run_clients(server.url, plan(kinds, args.requests, args.seed), args.clients, reference)
        wall_s = time.perf_counter() - started
        for client in slow:  # each finishes the upload it is trickling
            client.stop.set()
        for client in slow:
            client.join()
        probe.stop.set()
        probe.join()
        end, pids_end = settled_tree_rss_mb(master), worker_pids(master)
    server_log = log.read_text()
    result = {
        "command": shlex.join([Path(sys.executable).name, "bench/load_test.py", *(argv or sys.argv[1:])]),
        "requests": args.requests, "clients": args.clients, "workers": args.workers, "warmup": args.warmup,
        "slow_seconds": args.slow_seconds, "max_growth_pct": args.max_growth_pct,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_end": round(os.getloadavg()[0], 2)},
        "uploads": {u.name: {"status": u.status, "error": u.code, "limit": u.limit, "share": u.weight,
                             "every": u.every} for u in kinds},
        "reference_hc_px": reference,
        "run": summarise(outcomes, wall_s), "slow_clients": slow_section(slow, slow_upload, reference),
        "health": health_section(probe), "memory": memory_section(start, warm, end, pids_start, pids_end),
        "warmup_wrong_answers": sum(o.problem is not None for o in warmup),
        "tracebacks_in_server_log": server_log.count("Traceback"),
        "patient_data_in_server_log": sum(server_log.count(s) for s in (*PATIENT_FIELDS, PATIENT_FILE_NAME)),
    }
    result["checks"] = checks(result, args)
    result["passed"] = all(result["checks"].values())
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result)
    print(f"JSON: {args.json}; server log: {log}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
