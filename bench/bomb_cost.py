"""What each bomb of testkit/bombs.py costs when decoded WITHOUT the sandbox:
``python bench/bomb_cost.py [name ...]``.

Each upload is decoded by ``fetalhc.imaging.load_image`` in a fresh subprocess with no memory
limit (the loader the sandbox runs, outside it); the subprocess reports its decoding time and the
rise of its peak resident memory (VmHWM) over its resting memory after the imports. A case still
running after ``--timeout`` seconds is killed and reported as such. This shows that the bombs the
tests send (tests/web/test_bounded_decoding.py) are expensive to decode, i.e. that the sandbox is
what bounds them. It needs as much free memory as the largest bomb (about 2.1 GB).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from testkit import bombs
from testkit.samples import png_bomb

CASES = {
    "deflated_dicom": lambda: bombs.deflated_dicom(600),
    "many_scan_jpeg": lambda: bombs.many_scan_jpeg(20_000),
    "many_marker_jpeg": lambda: bombs.many_marker_jpeg(2_000_000),
    "huge_tile_tiff": bombs.huge_tile_tiff,
    "float_tiff": bombs.float_tiff,
    "many_item_dicom": lambda: bombs.many_item_dicom(2_000_000),
    "jpeg_in_small_dicom": bombs.jpeg_in_small_dicom,
    "rle_bmp": bombs.rle_bmp,
    "png16": lambda: png_bomb(4000, 3000, bit_depth=16),
}

_CHILD = r"""
import json, sys, time
from fetalhc.imaging.decode import load_image
from fetalhc.imaging.types import ImageLoadError

def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

data = sys.stdin.buffer.read()
resting = hwm_kb()
started = time.perf_counter()
try:
    image = load_image(data)
    outcome = f"decoded {image.width}x{image.height}"
except ImageLoadError as exc:
    outcome = f"refused: {exc.code}"
except MemoryError:
    outcome = "MemoryError"
print(json.dumps({"seconds": time.perf_counter() - started, "rise_mb": (hwm_kb() - resting) / 1024,
                  "outcome": outcome}))
"""


def measure(data: bytes, timeout_s: float) -> dict:
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD], input=data, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"seconds": time.perf_counter() - started, "rise_mb": None, "outcome": f"killed after {timeout_s:g} s"}
    if done.returncode != 0:
        return {"seconds": time.perf_counter() - started, "rise_mb": None,
                "outcome": f"exit {done.returncode}: {done.stderr.decode(errors='replace').strip()[-200:]}"}
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"cases (default: all): {', '.join(CASES)}")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a case is killed")
    args = parser.parse_args(argv)
    if unknown := set(args.names) - set(CASES):
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    print(f"{'bomb':<22}{'upload':>10}{'decode':>10}{'peak rise':>11}  outcome")
    for name in args.names or CASES:
        data = CASES[name]()
        r = measure(data, args.timeout)
        rise = "?" if r["rise_mb"] is None else f"{r['rise_mb']:.0f} MB"
        print(f"{name:<22}{len(data) / 1e6:>8.2f}MB{r['seconds']:>9.2f}s{rise:>11}  {r['outcome']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
