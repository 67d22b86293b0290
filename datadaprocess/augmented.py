"""Augmented copies of the training image/mask pairs on disk, and their CSV rows."""
from __future__ import annotations

import os
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from tqdm import tqdm

from fetalhc.data.augment import build_transform
from fetalhc.data.dataset import read_gray


@dataclass(frozen=True)
class AugmentJob:
    filename: str
    image_path: str
    mask_path: str
    copies: int
    seed: int
    out_dir: str


def augmented_names(filename: str, index: int) -> tuple[str, str]:
    """Names of augmentation ``index`` of ``filename``; the mask name is derived from the image's."""
    stem = Path(filename).stem
    image = f"{stem}_aug{index:03d}.png"
    return image, image.replace(".png", "_Mask.png")


def _run_job(job: AugmentJob) -> int:
    cv2.setNumThreads(1)  # one process per core already
    image, mask = read_gray(job.image_path), read_gray(job.mask_path)
    transform = build_transform(cv2.INTER_NEAREST, seed=job.seed)
    out = Path(job.out_dir)
    for i in range(job.copies):
        result = transform(image=image, mask=mask)
        image_name, mask_name = augmented_names(job.filename, i)
        cv2.imwrite(str(out / "images" / image_name), result["image"])
        cv2.imwrite(str(out / "masks" / mask_name), np.where(result["mask"] > 127, 255, 0).astype(np.uint8))
    return job.copies


def augment_dataset(table: pd.DataFrame, out_dir: Path, copies: int = 30, seed: int = 0,
                    workers: int | None = None) -> int:
    """Write ``copies`` augmentations of every *training* row of ``table``; returns the count written.

    Validation subjects are skipped so no variant of them can leak into training. Each image
    gets its own seed derived from ``seed`` and its row, so the output does not depend on the
    number of workers.
    """
    train = table[table["split"] == "train"]
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    jobs = [AugmentJob(r.filename, r.image_path, r.mask_path, copies, seed * 100_003 + i, str(out_dir))
            for i, r in enumerate(train.itertuples())]
    workers = workers or os.cpu_count() or 1
    with Pool(workers) as pool:
        return sum(tqdm(pool.imap_unordered(_run_job, jobs), total=len(jobs), desc="augment", unit="image"))


def augmented_table(table: pd.DataFrame, out_dir: Path) -> pd.DataFrame:
    """CSV rows for the augmented pairs found in ``out_dir``, paired by name (never by sorting)."""
    source = table.set_index(table["filename"].map(lambda f: Path(f).stem))
    rows = []
    for image_path in sorted((out_dir / "images").glob("*_aug[0-9][0-9][0-9].png")):
        stem, _, _ = image_path.stem.rpartition("_aug")
        mask_path = out_dir / "masks" / f"{image_path.stem}_Mask.png"
        if stem not in source.index or not mask_path.is_file():
            raise FileNotFoundError(f"no source row or mask for augmented image {image_path.name}")
        row = source.loc[stem]
        rows.append({"filename": image_path.name, "image_path": str(image_path.resolve()),
                     "mask_path": str(mask_path.resolve()), "source_filename": row["filename"],
                     "pixel_size_mm": row["pixel_size_mm"], "subject": row["subject"],
                     "split": row["split"]})
    return pd.DataFrame(rows)
