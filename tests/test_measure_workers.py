"""Batch measurement in worker processes gives the rows of the one-process run, in order."""
from __future__ import annotations

import dataclasses

import pytest

from fetalhc.inference.batch import measure_files
from fetalhc.settings import Settings


def test_workers_give_the_same_rows_in_the_same_order(hc18, model_dir, tmp_path):
    files = [hc18 / "training_set" / name for name in ("000_HC.png", "001_HC.png", "002_HC.png", "003_HC.png")]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    files.insert(2, broken)
    sizes = {"000_HC.png": 0.0691358041432, "003_HC.png": 0.0961}
    settings = dataclasses.replace(Settings(), model_dir=model_dir)
    one = measure_files(files, sizes, settings, workers=1)
    two = measure_files(files, sizes, settings, workers=2)
    assert [r["file"] for r in two] == [str(f) for f in files]
    assert [(r["status"], r["error"]) for r in two] == [(r["status"], r["error"]) for r in one]
    assert one[2]["status"] == "error" and one[0]["status"] == "success"
    # Another thread count may change the last bits of the network's sums, not the measurement.
    for a, b in zip(one, two):
        if a["status"] == "success":
            assert b["circumference_px"] == pytest.approx(a["circumference_px"], abs=1e-2)
            assert b["pixel_size_mm"] == a["pixel_size_mm"]
