"""Repeated timing with warm-up, and the summaries the benchmark reports."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_calls(fn: Callable[[], object], reps: int, warmup: int = 3) -> list[float]:
    """Seconds of each of ``reps`` calls of ``fn``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linearly interpolated."""
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q / 100.0
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary_ms(samples: list[float]) -> dict[str, float]:
    """Median (= p50) and p95 in milliseconds, and the number of samples."""
    return {"p50_ms": round(1000.0 * statistics.median(samples), 1),
            "p95_ms": round(1000.0 * percentile(samples, 95), 1),
            "n": len(samples)}
