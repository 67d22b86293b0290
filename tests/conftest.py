"""Shared fixtures: the HC18 folder (skips with a reason when absent) and the committed model."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fetalhc.paths import DEFAULT_MODEL_DIR, DataNotFoundError, hc18_dir  # noqa: E402


@pytest.fixture(scope="session")
def hc18():
    """The HC18 folder; tests that need it skip on machines without it (CI has it)."""
    try:
        return hc18_dir()
    except DataNotFoundError as exc:
        pytest.skip(f"HC18 data not available: {exc}")


@pytest.fixture(scope="session")
def model_dir():
    if not (DEFAULT_MODEL_DIR / "saved_model.pb").is_file():
        pytest.fail(f"the committed model is missing at {DEFAULT_MODEL_DIR}")
    return DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def segmenter(model_dir):
    from fetalhc.model.loader import load_segmenter

    return load_segmenter(model_dir)


@pytest.fixture(scope="session")
def predictor(model_dir):
    """The committed model (every stage, its calibrated interval) behind the one measurement road."""
    from fetalhc.predictor import load_predictor
    from fetalhc.settings import Settings

    return load_predictor(Settings(), model_dir=model_dir)


def _copy_mini_hc18(hc18, dest, n: int = 12):
    """An HC18-shaped folder with the first ``n`` training images (subjects with several images included)."""
    import shutil

    import pandas as pd

    from fetalhc.data.hc18 import annotation_name

    table = pd.read_csv(hc18 / "training_set_pixel_size_and_HC.csv").head(n)
    assert table["filename"].str[:3].duplicated().any()  # a subject with two images is in it
    (dest / "training_set").mkdir(parents=True)
    for name in table["filename"]:
        for f in (name, annotation_name(name)):
            shutil.copy(hc18 / "training_set" / f, dest / "training_set" / f)
    table.to_csv(dest / "training_set_pixel_size_and_HC.csv", index=False)
    return dest


@pytest.fixture
def mini_hc18(hc18, tmp_path):
    return _copy_mini_hc18(hc18, tmp_path / "hc18")


@pytest.fixture(scope="session")
def mini_dataset_csv(hc18, tmp_path_factory):
    """Masks and the data set CSV of a 12-image HC18 subset, made with the library functions."""
    from datadaprocess.dataset_csv import build_dataset_table
    from datadaprocess.masks import write_masks

    root = tmp_path_factory.mktemp("mini")
    mini = _copy_mini_hc18(hc18, root / "hc18")
    masks = root / "masks"
    write_masks(mini, masks)
    csv = root / "dataset.csv"
    build_dataset_table(mini, masks, fraction=0.25).to_csv(csv, index=False)
    return csv
