"""The original project's serving path: the benchmark's baseline.

The SavedModel wrapped in ``keras.layers.TFSMLayer(path, call_endpoint="serve")`` inside a
``keras.Sequential``, called directly on one image at a time, with PIL preprocessing (resize
to 256x256, then grayscale) and no flip averaging; our measurement on its output.

Run as a script it is the baseline process of "start to first answer":
``python bench/baseline.py IMAGE PIXEL_SIZE_MM [--answers N]`` imports TensorFlow and Keras,
builds the model, answers one image and prints a JSON line, answers ``N`` in all, and prints
its resident memory.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402

from fetalhc.imaging.types import PixelSpacing  # noqa: E402
from fetalhc.measurement import Biometry, measure_head  # noqa: E402
from fetalhc.paths import DEFAULT_MODEL_DIR  # noqa: E402

SIZE = 256


def build_baseline(model_dir: Path = DEFAULT_MODEL_DIR) -> keras.Sequential:
    return keras.Sequential([keras.layers.TFSMLayer(str(model_dir), call_endpoint="serve")])


def baseline_input(data: bytes) -> tuple[np.ndarray, tuple[int, int]]:
    """Encoded image -> (1, 256, 256, 1) float32 in [0, 1], and the original (height, width)."""
    image = Image.open(io.BytesIO(data))
    gray = image.resize((SIZE, SIZE)).convert("L")
    return np.asarray(gray, np.float32)[None, :, :, None] / 255.0, (image.height, image.width)


def baseline_measure(model: keras.Sequential, data: bytes, pixel_size_mm: float) -> Biometry:
    """One encoded image through the whole baseline path to a head measurement."""
    x, shape = baseline_input(data)
    prob = np.asarray(model(x))[0, :, :, 0]
    return measure_head(prob, shape, PixelSpacing(pixel_size_mm, pixel_size_mm, "form"))


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", type=Path)
    p.add_argument("pixel_size_mm", type=float)
    p.add_argument("--answers", type=int, default=1)
    args = p.parse_args()
    data = args.image.read_bytes()
    model = build_baseline()
    hc_mm = baseline_measure(model, data, args.pixel_size_mm).hc_mm
    print(json.dumps({"event": "first_answer", "hc_mm": hc_mm, "rss_mb": rss_mb()}), flush=True)
    for _ in range(args.answers - 1):
        baseline_measure(model, data, args.pixel_size_mm)
    print(json.dumps({"event": "done", "answers": args.answers, "rss_mb": rss_mb()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
