"""Measure a folder or list of images: ``python -m fetalhc.inference.measure IMAGES... --out results.csv``.

One CSV row per image; a file that cannot be read or shows no head gets a row with its error,
never a crash. Pixel sizes come from ``--pixel-csv`` (HC18 format), else from the file (DICOM).
Images are shared among ``--workers`` processes (default: one per core, at most 4), each with
its own copy of the model: decoding and measuring run beside the network instead of between
two predictions.
"""
from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from fetalhc.imaging import ImageLoadError, load_image_file
from fetalhc.measurement import NoHeadFoundError
from fetalhc.model.loader import Segmenter, load_segmenter
from fetalhc.pipeline import InvalidParameterError, analyse

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom", ""}
COLUMNS = ["file", "status", "error", "hc_mm", "hc_px", "bpd_mm", "ofd_mm", "bpd_px", "ofd_px", "cephalic_index",
           "center_x_px", "center_y_px", "semi_major_px", "semi_minor_px", "angle_deg", "pixel_size_mm",
           "pixel_size_source", "confidence", "quality", "quality_flags"]


def collect_images(inputs: list[Path]) -> list[Path]:
    """Files given directly, plus the image files of given folders (annotations excluded)."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files += sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                            and not p.stem.endswith("_Annotation") and not p.name.startswith("."))
        else:
            files.append(item)
    return files


def read_pixel_csv(path: Path | None) -> dict[str, float]:
    if path is None:
        return {}
    table = pd.read_csv(path)
    return dict(zip(table["filename"], table["pixel size(mm)"]))


def measure_file(path: Path, segmenter: Segmenter, pixel_size_mm: float | None) -> dict:
    row = {"file": str(path), "status": "ok", "error": ""}
    try:
        a = analyse(load_image_file(path), segmenter, pixel_size_mm)
    except (ImageLoadError, NoHeadFoundError, InvalidParameterError, OSError) as exc:
        return {**row, "status": "error", "error": getattr(exc, "message", str(exc))}
    b, e = a.biometry, a.biometry.ellipse
    row.update(hc_mm=b.hc_mm, hc_px=b.hc_px, bpd_mm=b.bpd_mm, ofd_mm=b.ofd_mm, bpd_px=b.bpd_px, ofd_px=b.ofd_px,
               cephalic_index=b.cephalic_index, center_x_px=e.center_x, center_y_px=e.center_y,
               semi_major_px=e.semi_major, semi_minor_px=e.semi_minor, angle_deg=e.angle_deg,
               pixel_size_mm=None if a.spacing is None else a.spacing.x_mm,
               pixel_size_source=None if a.spacing is None else a.spacing.source,
               confidence=b.quality.confidence, quality=b.quality.verdict,
               quality_flags="; ".join(b.quality.flags))
    return row


# At most this many worker processes by default: each holds its own model in memory.
MAX_DEFAULT_WORKERS = 4

_worker_segmenter: Segmenter | None = None


def _measure_in_worker(path: Path, pixel_size_mm: float | None, model: Path | None, threads: int) -> dict:
    """One image in a pool process; the process loads its model at its first image, so that a model
    that cannot be loaded surfaces as ``ModelLoadError`` in the caller rather than a broken pool."""
    global _worker_segmenter
    if _worker_segmenter is None:
        _worker_segmenter = load_segmenter(model, threads=threads)
    return measure_file(path, _worker_segmenter, pixel_size_mm)


def measure_files(files: list[Path], sizes: dict[str, float], model: Path | None = None,
                  workers: int = 1) -> list[dict]:
    """One row per file, in order. ``workers`` > 1 measures in that many processes, sharing the cores."""
    progress = {"desc": "measure", "unit": "image", "total": len(files)}
    if workers <= 1:
        segmenter = load_segmenter(model)
        return [measure_file(f, segmenter, sizes.get(f.name)) for f in tqdm(files, **progress)]
    threads = max(1, (os.cpu_count() or 1) // workers)
    n = len(files)
    # The pool starts before any model or progress-bar thread exists in this process, so the
    # platform's default start method (fork on Linux) is safe.
    with ProcessPoolExecutor(workers) as pool:
        rows = pool.map(_measure_in_worker, files, [sizes.get(f.name) for f in files], [model] * n, [threads] * n,
                        chunksize=4)
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
    sizes = read_pixel_csv(args.pixel_csv)
    files = collect_images(args.inputs)
    rows = measure_files(files, sizes, args.model, args.workers)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(args.out, index=False)
    n_err = sum(r["status"] != "ok" for r in rows)
    print(f"measured {len(rows) - n_err} of {len(rows)} images -> {args.out}"
          + (f" ({n_err} errors, see the 'error' column)" if n_err else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
