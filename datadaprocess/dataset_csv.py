"""The data set CSV: one row per HC18 training image with its mask, calibration and split."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from datadaprocess.masks import mask_name
from fetalhc.data.hc18 import annotation_name, read_training_table
from fetalhc.data.split import SPLIT_SEED, VALIDATION_FRACTION, split_by_subject
from fetalhc.paths import DataNotFoundError

COLUMNS = ["filename", "image_path", "annotation_path", "mask_path", "pixel_size_mm", "hc_mm",
           "subject", "split"]


def build_dataset_table(hc18: Path, mask_dir: Path, seed: int = SPLIT_SEED,
                        fraction: float = VALIDATION_FRACTION) -> pd.DataFrame:
    """Pair every training image with its annotation and mask by file stem; add subject split."""
    table = read_training_table(hc18)
    table["image_path"] = [str((hc18 / "training_set" / f).resolve()) for f in table["filename"]]
    table["annotation_path"] = [str((hc18 / "training_set" / annotation_name(f)).resolve())
                                for f in table["filename"]]
    table["mask_path"] = [str((mask_dir / mask_name(f)).resolve()) for f in table["filename"]]
    missing = [p for col in ("image_path", "mask_path") for p in table[col] if not Path(p).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{len(missing)} files are missing, e.g. {missing[0]}; run "
            "scripts/Create_Mask_Image_For_DataSet.py first")
    table["split"] = split_by_subject(table["subject"], fraction, seed)
    return table[COLUMNS]

