"""CPU inference benchmark, ours beside the original serving path: ``python bench/run_bench.py [--quick]``.

Every figure is measured in this run: model-only latency per runtime (each in a fresh
process), end-to-end latency in one process, HTTP latency through gunicorn with 1, 2 and 4
concurrent clients (with and without the overlay), start-up time and resident memory, and batch
``measure`` throughput. Prints markdown tables and writes all figures as JSON.
Close other work first: figures taken beside a busy CPU are contended (the load average is
recorded with them).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import requests

from http_load import bench_server, post_image, run_clients
from report import render
from timing import summary_ms

from fetalhc.model.loader import RUNTIMES, choose_runtime, read_card
from fetalhc.settings import Settings
from fetalhc.paths import DEFAULT_MODEL_DIR, PROJECT_ROOT, hc18_dir

BENCH_DIR = Path(__file__).resolve().parent
# A typical HC18 frame: 800x540 PNG.
SAMPLE_NAME = "010_HC.png"
CLIENTS = (1, 2, 4)


def run_json(*args: str) -> dict:
    """Run ``bench/inprocess.py`` (or another bench script) in a fresh Python; its last stdout line as JSON."""
    result = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} {' '.join(args[1:3])} failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measured(section: str, fn, *args) -> dict:
    """``fn(*args)``, or the reason it failed: one broken part does not lose the rest of the run."""
    print(f"[bench] {section} ...", file=sys.stderr, flush=True)
    try:
        return fn(*args)
    except (RuntimeError, OSError, requests.RequestException) as exc:
        print(f"[bench] {section} failed: {exc}", file=sys.stderr, flush=True)
        return {"error": str(exc)}


def runtime_section(sample: Path, pixel_size_mm: float, reps: int) -> dict:
    return {runtime: measured(f"in-process {runtime}", run_json, str(BENCH_DIR / "inprocess.py"), "runtime",
                              runtime, str(sample), str(pixel_size_mm), "--reps", str(reps))
            for runtime in ("baseline", *RUNTIMES)}


def server_startup(runtime: str, data: bytes, pixel_size_mm: float, answers: int, logs: Path) -> dict:
    """A one-worker server: start -> /health 200, start -> first measurement, worker RSS after ``answers``."""
    env = {"FETALHC_RUNTIME": runtime, "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "1"}
    with bench_server(env, logs / f"gunicorn-startup-{runtime}.log") as server, requests.Session() as session:
        post_image(session, server.url, data, pixel_size_mm, overlay=False)
        first_answer_s = time.perf_counter() - server.started
        for _ in range(answers - 1):
            post_image(session, server.url, data, pixel_size_mm, overlay=False)
        return {"health_s": round(server.health_s, 2), "first_answer_s": round(first_answer_s, 2),
                "answers": answers, "rss_mb": round(max(server.worker_rss_mb())),
                "master_rss_mb": round(server.master_rss_mb())}


def baseline_startup(sample: Path, pixel_size_mm: float, answers: int) -> dict:
    """The baseline process: start -> first answer printed, and its RSS after ``answers`` images."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(BENCH_DIR / "baseline.py"), str(sample), str(pixel_size_mm),
                                "--answers", str(answers)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    first_answer_s = None
    last: dict = {}
    for line in process.stdout:
        if line.startswith("{"):
            last = json.loads(line)
            if last["event"] == "first_answer":
                first_answer_s = time.perf_counter() - started
    if process.wait() != 0 or first_answer_s is None:
        raise RuntimeError(f"bench/baseline.py exited with {process.returncode}")
    return {"first_answer_s": round(first_answer_s, 2), "answers": answers, "rss_mb": round(last["rss_mb"])}


def http_section(runtime: str, data: bytes, pixel_size_mm: float, configs: list[tuple[int, int, int]],
                 requests_per_run: int, logs: Path) -> dict:
    """Latency and throughput per server configuration: (gunicorn workers, threads, FETALHC_THREADS)."""
    results = []
    for workers, threads, model_threads in configs:
        env = {"FETALHC_RUNTIME": runtime, "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads),
               "FETALHC_THREADS": str(model_threads)}
        label = f"{workers}x{threads}x{model_threads}"
        print(f"[bench] http workers x threads x FETALHC_THREADS = {label} ...", file=sys.stderr, flush=True)
        with bench_server(env, logs / f"gunicorn-{label}.log") as server:
            run_clients(server.url, data, pixel_size_mm, workers * threads, 4 * workers * threads, overlay=True)
            runs = []
            for overlay in (False, True):
                for clients in CLIENTS:
                    latencies, wall = run_clients(server.url, data, pixel_size_mm, clients, requests_per_run, overlay)
                    runs.append({"overlay": overlay, "clients": clients, **summary_ms(latencies),
                                 "requests_per_s": round(len(latencies) / wall, 1)})
        results.append({"workers": workers, "threads": threads, "model_threads": model_threads, "runs": runs})
    return {"runtime": runtime, "configs": results}


def batch_section(hc18: Path, images: int) -> dict:
    return {"runs": [run_json(str(BENCH_DIR / "inprocess.py"), "batch", str(hc18), "--images", str(images),
                              "--workers", str(workers)) for workers in (1, 2)]}


def side_by_side(results: dict, served: str) -> list[tuple[str, float | None, float | None]]:
    def get(*keys):
        node = results
        for k in keys:
            node = node.get(k, {}) if isinstance(node, dict) else {}
        return node or None

    http_1 = next((r["p50_ms"] for c in get("http", "configs") or [] for r in c["runs"]
                   if r["clients"] == 1 and not r["overlay"]), None)
    return [
        ("model only, batch 1, one pass (ms)", get("runtimes", "baseline", "model_only", "batch_1", "p50_ms"),
         get("runtimes", served, "model_only", "batch_1", "p50_ms")),
        ("model only, batch 16 (ms)", get("runtimes", "baseline", "model_only", "batch_16", "p50_ms"),
         get("runtimes", served, "model_only", "batch_16", "p50_ms")),
        ("per image in process, as served (ms)",
         get("runtimes", "baseline", "end_to_end", "baseline", "p50_ms"),
         get("runtimes", served, "end_to_end", served, "p50_ms")),
        ("per image in process, stage 1 only (the one-stage path; ms)",
         get("runtimes", "baseline", "end_to_end", "baseline", "p50_ms"),
         get("runtimes", served, "end_to_end", f"{served}, stage 1 only", "p50_ms")),
        ("per image in process, ours with the optional flip TTA (ms)",
         get("runtimes", "baseline", "end_to_end", "baseline", "p50_ms"),
         get("runtimes", served, "end_to_end", f"{served}, with flip TTA", "p50_ms")),
        ("start to first measurement (s)", get("startup", "baseline", "first_answer_s"),
         get("startup", served, "first_answer_s")),
        ("resident memory of the serving process (MB)", get("startup", "baseline", "rss_mb"),
         get("startup", served, "rss_mb")),
        ("HTTP p50, 1 client, no overlay (ms; baseline not served over HTTP)", None, http_1),
    ]


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                platform.processor() or "unknown CPU")


def meta(args: argparse.Namespace, sample: Path) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True).stdout.strip()
    card = read_card(DEFAULT_MODEL_DIR)
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit or "unknown",
            "cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version(),
            "openvino": version("openvino"), "onnxruntime": version("onnxruntime"),
            "tensorflow": version("tensorflow-cpu"),
            "model": f"{card.get('name', '?')} {card.get('version', '?')}", "sample": sample.name,
            "threads": Settings.from_env().threads, "quick": args.quick,
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            "load_before": os.getloadavg()[0]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run: few repetitions, one server configuration")
    p.add_argument("--json", type=Path, default=BENCH_DIR / "results" / "bench.json", help="(default: %(default)s)")
    p.add_argument("--hc18-dir", type=Path, default=None, help="HC18 folder (default: HC18_DIR, ../shared/hc18)")
    args = p.parse_args()
    hc18 = hc18_dir(args.hc18_dir)
    sizes = pd.read_csv(hc18 / "training_set_pixel_size_and_HC.csv").set_index("filename")["pixel size(mm)"]
    sample = hc18 / "training_set" / SAMPLE_NAME
    pixel_size_mm, data = float(sizes[SAMPLE_NAME]), sample.read_bytes()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    logs = args.json.parent

    reps, answers, per_run, images = (8, 30, 12, 20) if args.quick else (40, 200, 60, 100)
    # (gunicorn workers, threads per worker, FETALHC_THREADS): the repository's default first.
    configs = [(2, 1, 2)] if args.quick else [(2, 1, 2), (2, 1, 1), (1, 2, 2), (1, 1, 2), (4, 1, 1)]
    served = choose_runtime(DEFAULT_MODEL_DIR)  # what the app runs with this environment
    results = {"meta": {**meta(args, sample), "served_runtime": served}}
    results["runtimes"] = runtime_section(sample, pixel_size_mm, reps)
    results["startup"] = {runtime: measured(f"start-up {runtime}", server_startup, runtime, data, pixel_size_mm,
                                            answers, logs) for runtime in RUNTIMES}
    results["startup"]["baseline"] = measured("start-up baseline", baseline_startup, sample, pixel_size_mm, answers)
    results["http"] = measured("http", http_section, served, data, pixel_size_mm, configs, per_run, logs)
    results["batch"] = measured("batch measure", batch_section, hc18, images)
    results["meta"]["load_after"] = os.getloadavg()[0]
    results["side_by_side"] = side_by_side(results, served)

    args.json.write_text(json.dumps(results, indent=2))
    print(render(results))
    print(f"[bench] figures written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
