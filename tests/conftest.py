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
