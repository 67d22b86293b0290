"""The filled head masks of the HC18 training images, each checked against the CSV HC."""
from __future__ import annotations

from pathlib import Path

import cv2
import pandas as pd
from tqdm import tqdm

from fetalhc.data.annotations import make_mask
from fetalhc.data.dataset import read_gray
from fetalhc.data.hc18 import annotation_name, read_training_table


def mask_name(image_name: str) -> str:
    return f"{Path(image_name).stem}_Mask.png"


def write_masks(hc18: Path, out_dir: Path) -> pd.DataFrame:
    """Write ``NNN_HC_Mask.png`` for every training image to ``out_dir``; return the HC check per image.

    The check table (filename, hc_reference_mm, hc_mask_mm, relative_error, verified) is also
    written to ``out_dir/mask_check.csv``.
    """
    table = read_training_table(hc18)
    out_dir.mkdir(parents=True, exist_ok=True)
    checks = []
    for row in tqdm(table.itertuples(), total=len(table), desc="masks", unit="image"):
        annotation = read_gray(hc18 / "training_set" / annotation_name(row.filename))
        mask, result = make_mask(annotation, row.pixel_size_mm, row.hc_mm, row.filename)
        cv2.imwrite(str(out_dir / mask_name(row.filename)), mask)
        checks.append({"filename": row.filename, "hc_reference_mm": row.hc_mm,
                       "hc_mask_mm": round(result.hc_fit_mm, 4),
                       "relative_error": result.relative_error, "verified": result.verified})
    report = pd.DataFrame(checks)
    report.to_csv(out_dir / "mask_check.csv", index=False)
    return report
