"""Measure a folder or list of images: ``python -m fetalhc.inference.batch IMAGES... --out results.csv``.

One CSV row per image: ``file``, then the flat form of the result record (the JSON answer's
keys, nested ones joined with dots; ``status`` is ``success``). A file that cannot be read or
shows no head gets a row with ``status`` ``error`` and the ``error`` message, as the JSON error
answer, never a crash. Pixel sizes come from ``--pixel-csv`` (HC18 format), else from the file (DICOM).
Images are shared among ``--workers`` processes (default: one per core, at most 4), each with
its own copy of the model: decoding and measuring run beside the network instead of between
two predictions.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from fetalhc.imaging import ImageLoadError, load_image_file
from fetalhc.imaging.names import is_image_name
from fetalhc.measurement import NoHeadFoundError
from fetalhc.predictor import HeadPredictor, InvalidParameterError, load_predictor
from fetalhc.record_csv import csv_columns, flat_row
from fetalhc.settings import Settings

COLUMNS = ["file", "status", "error", *(c for c in csv_columns() if c != "status")]


def collect_images(inputs: list[Path]) -> list[Path]:
    """Files given directly, plus the image files of given folders (annotations excluded)."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.is_file() and is_image_name(p.name))
        else:
            files.append(item)
    return files


def read_pixel_csv(path: Path | None) -> dict[str, float]:
    if path is None:
        return {}
    table = pd.read_csv(path)
    return dict(zip(table["filename"], table["pixel size(mm)"]))


def measure_file(path: Path, predictor: HeadPredictor, pixel_size_mm: float | None) -> dict:
    try:
        measurement = predictor.measure(load_image_file(path), pixel_size_mm)
    except (ImageLoadError, NoHeadFoundError, InvalidParameterError, OSError) as exc:
        return {"file": str(path), "status": "error", "error": getattr(exc, "message", str(exc))}
    return {"file": str(path), "error": "", **flat_row(predictor.record(measurement))}


# At most this many worker processes by default: each holds its own model in memory.
MAX_DEFAULT_WORKERS = 4

_worker_predictor: HeadPredictor | None = None


def _measure_in_worker(path: Path, pixel_size_mm: float | None, settings: Settings, threads: int) -> dict:
    """One image in a pool process; the process loads its model at its first image, so that a model
    that cannot be loaded surfaces as ``ModelLoadError`` in the caller rather than a broken pool."""
    global _worker_predictor
    if _worker_predictor is None:
        _worker_predictor = load_predictor(settings, threads=threads)
    return measure_file(path, _worker_predictor, pixel_size_mm)


def measure_files(files: list[Path], sizes: dict[str, float], settings: Settings, workers: int = 1) -> list[dict]:
    """One row per file, in order. ``workers`` > 1 measures in that many processes, sharing the cores."""
    progress = {"desc": "measure", "unit": "image", "total": len(files)}
    if workers <= 1:
        predictor = load_predictor(settings)
        return [measure_file(f, predictor, sizes.get(f.name)) for f in tqdm(files, **progress)]
    threads = max(1, (os.cpu_count() or 1) // workers)
    n = len(files)
    # The pool starts before any model or progress-bar thread exists in this process, so the
    # platform's default start method (fork on Linux) is safe.
    with ProcessPoolExecutor(workers) as pool:
        rows = pool.map(_measure_in_worker, files, [sizes.get(f.name) for f in files], [settings] * n,
                        [threads] * n, chunksize=4)
        return list(tqdm(rows, **progress))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", type=Path, help="image files and/or folders")
    p.add_argument("--pixel-csv", type=Path, default=None, help="HC18-format CSV: filename,pixel size(mm)")
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--out", type=Path, default=Path("measurements.csv"))
    p.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS),
                   help="processes measuring at once (default: %(default)s); 1 measures in this process")
    args = p.parse_args(argv)
    settings = Settings.from_env()
    if args.model:
        settings = dataclasses.replace(settings, model_dir=args.model)
    sizes = read_pixel_csv(args.pixel_csv)
    files = collect_images(args.inputs)
    rows = measure_files(files, sizes, settings, args.workers)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(args.out, index=False)
    n_err = sum(r["status"] == "error" for r in rows)
    print(f"measured {len(rows) - n_err} of {len(rows)} images -> {args.out}"
          + (f" ({n_err} errors, see the 'error' column)" if n_err else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
