"""The benchmark's command line starts (benchmarks themselves are not tests: no timings here)."""
from __future__ import annotations

import subprocess
import sys

from fetalhc.paths import PROJECT_ROOT


def test_run_bench_help():
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "run_bench.py"), "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--quick" in result.stdout and "--json" in result.stdout
