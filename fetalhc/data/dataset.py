"""The data set on disk: where the derived files live, the data set CSV and its grayscale PNGs."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from fetalhc.paths import DATASET_DIR, DataNotFoundError

DEFAULT_MASK_DIR = DATASET_DIR / "masks"
DEFAULT_DATASET_CSV = DATASET_DIR / "hc18_dataset.csv"
DEFAULT_AUG_DIR = DATASET_DIR / "augmented"
DEFAULT_AUG_CSV = DATASET_DIR / "hc18_augmented.csv"


def read_dataset_table(path: Path) -> pd.DataFrame:
    """Read the data set CSV written by ``scripts/creating_csv_for_dataset.py``."""
    if not Path(path).is_file():
        raise DataNotFoundError(
            f"{path} not found; run scripts/Create_Mask_Image_For_DataSet.py and "
            "scripts/creating_csv_for_dataset.py first")
    return pd.read_csv(path, dtype={"subject": str})


def read_gray(path) -> np.ndarray:
    """Read an 8-bit grayscale PNG of the data set (trusted local files)."""
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return img
