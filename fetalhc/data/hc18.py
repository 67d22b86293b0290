"""Reading the HC18 layout: CSVs, file pairing and subject ids."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fetalhc.paths import DataNotFoundError

TRAIN_CSV = "training_set_pixel_size_and_HC.csv"
TEST_CSV = "test_set_pixel_size.csv"
_SUBJECT = re.compile(r"^(\d{3})_")


def subject_id(filename: str) -> str:
    """The subject of an HC18 file: its leading 3-digit number (``010_2HC.png`` -> ``010``)."""
    match = _SUBJECT.match(Path(filename).name)
    if not match:
        raise ValueError(f"{filename!r} does not start with a 3-digit HC18 subject number")
    return match.group(1)


def annotation_name(image_name: str) -> str:
    """Annotation file paired with an image by stem: ``010_2HC.png`` -> ``010_2HC_Annotation.png``."""
    return f"{Path(image_name).stem}_Annotation.png"


def read_training_table(hc18: Path) -> pd.DataFrame:
    """The training CSV with normalised column names: filename, pixel_size_mm, hc_mm, subject."""
    table = _read_csv(hc18, TRAIN_CSV).rename(columns={
        "pixel size(mm)": "pixel_size_mm", "head circumference (mm)": "hc_mm"})
    table["subject"] = table["filename"].map(subject_id)
    return table


def read_test_table(hc18: Path) -> pd.DataFrame:
    """The test CSV: filename, pixel_size_mm."""
    return _read_csv(hc18, TEST_CSV).rename(columns={"pixel size(mm)": "pixel_size_mm"})


def _read_csv(hc18: Path, name: str) -> pd.DataFrame:
    path = hc18 / name
    if not path.is_file():
        raise DataNotFoundError(f"{path} is missing; is {hc18} an HC18 folder?")
    return pd.read_csv(path)
