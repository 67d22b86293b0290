"""Measurements made inside one fresh process, so that each runtime runs alone.

``python bench/inprocess.py runtime {openvino,onnx,tensorflow,baseline} IMAGE PIXEL_SIZE_MM --reps N``
    model-only latency (one forward pass, batch 1 and 16) and end-to-end per-image latency
    from the encoded bytes (decode, preprocess, model, measurement);
``python bench/inprocess.py batch HC18_DIR --images N --workers W``
    throughput of ``fetalhc.inference.batch.measure_files`` on HC18 training images.
Prints one JSON object on its last line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from timing import summary_ms, time_calls  # noqa: E402

from fetalhc.settings import RUNTIMES, Settings  # noqa: E402

BATCH = 16


def runtime_figures(runtime: str, image: Path, pixel_size_mm: float, reps: int) -> dict:
    data = image.read_bytes()
    x1 = np.random.default_rng(0).random((1, 256, 256), dtype=np.float32)
    x16 = np.repeat(x1, BATCH, axis=0)
    if runtime == "baseline":
        from baseline import baseline_measure, build_baseline

        model = build_baseline()
        forward = {1: lambda: model(x1[..., None]), BATCH: lambda: model(x16[..., None])}
        e2e = {"baseline": lambda: baseline_measure(model, data, pixel_size_mm)}
    else:
        from fetalhc.imaging import load_image
        from fetalhc.predictor import load_predictor

        served = load_predictor(Settings(), runtime=runtime)  # what the app serves: every stage, the interval
        one_stage = dataclasses.replace(served, refiner=None, uncertainty=None)  # stage 1 alone, as before
        flipped = load_predictor(Settings(), runtime=runtime, flip_tta=True)  # the optional flip averaging
        forward = {1: lambda: served.segmenter.predict_batch(x1), BATCH: lambda: served.segmenter.predict_batch(x16)}
        e2e = {f"{runtime}": lambda: served.measure(load_image(data), pixel_size_mm),
               f"{runtime}, stage 1 only": lambda: one_stage.measure(load_image(data), pixel_size_mm),
               f"{runtime}, with flip TTA": lambda: flipped.measure(load_image(data), pixel_size_mm)}
    model_only = {f"batch_{n}": summary_ms(time_calls(fn, reps if n == 1 else max(2, reps // 4),
                                                      warmup=3 if n == 1 else 1))
                  for n, fn in forward.items()}
    return {"runtime": runtime, "model_only": model_only,
            "end_to_end": {name: summary_ms(time_calls(fn, reps)) for name, fn in e2e.items()}}


def batch_figures(hc18: Path, n_images: int, workers: int) -> dict:
    import pandas as pd

    from fetalhc.inference.batch import measure_files

    table = pd.read_csv(hc18 / "training_set_pixel_size_and_HC.csv")
    table = table.iloc[:: max(1, len(table) // n_images)].head(n_images)
    files = [hc18 / "training_set" / name for name in table["filename"]]
    sizes = dict(zip(table["filename"], table["pixel size(mm)"]))
    started = time.perf_counter()
    rows = measure_files(files, sizes, Settings(), workers=workers)
    seconds = time.perf_counter() - started
    return {"workers": workers, "images": len(files), "ok": sum(r["status"] == "success" for r in rows),
            "seconds": round(seconds, 2), "images_per_s": round(len(files) / seconds, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("runtime")
    r.add_argument("runtime", choices=[*RUNTIMES, "baseline"])
    r.add_argument("image", type=Path)
    r.add_argument("pixel_size_mm", type=float)
    r.add_argument("--reps", type=int, default=30)
    b = sub.add_parser("batch")
    b.add_argument("hc18", type=Path)
    b.add_argument("--images", type=int, default=100)
    b.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    if args.what == "runtime":
        result = runtime_figures(args.runtime, args.image, args.pixel_size_mm, args.reps)
    else:
        result = batch_figures(args.hc18, args.images, args.workers)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
