"""The training pack (training on a machine without the data set) and the two-stage training script."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from fetalhc.data.dataset import read_dataset_table, read_gray
from fetalhc.measurement.geometry import Ellipse, draw_filled
from fetalhc.model.constants import INPUT_SIZE
from fetalhc.training.data import load_split
from fetalhc.training.pack import SOURCE_SEMI_MAJOR_PX, load_pack, pack, stage2_source

ROOT = Path(__file__).resolve().parents[1]


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 127, b > 127
    return 2.0 * (a & b).sum() / (a.sum() + b.sum())


def test_stage2_source_keeps_the_ellipse_on_the_reduced_head():
    """A large head is reduced to SOURCE_SEMI_MAJOR_PX and cut around; its ellipse follows exactly."""
    ellipse = Ellipse(410.3, 270.8, 260.0, 200.0, 25.0)
    mask = draw_filled((540, 800), ellipse)
    gray = cv2.GaussianBlur(mask, (0, 0), 3)
    small_gray, small_mask, moved = stage2_source(gray, mask, ellipse)
    assert abs(moved.semi_major - SOURCE_SEMI_MAJOR_PX) < 0.5
    assert small_gray.shape == small_mask.shape and max(small_gray.shape) < 800
    redrawn = draw_filled(small_mask.shape, moved)
    assert _dice(redrawn, small_mask) > 0.99


def test_pack_holds_the_training_split_exactly_and_nothing_of_validation(mini_dataset_csv, tmp_path):
    out = tmp_path / "pack.npz"
    pack(mini_dataset_csv, out)
    stage1, stage2 = load_pack(out)
    table = read_dataset_table(mini_dataset_csv)
    train = table[table["split"] == "train"].reset_index(drop=True)
    assert list(stage1.table["filename"]) == list(train["filename"])
    assert not set(stage1.table["subject"]) & set(table.loc[table["split"] == "validation", "subject"])
    direct = load_split(train)
    np.testing.assert_array_equal(stage1.images, direct.images)             # lossless
    assert np.abs(stage1.masks - direct.masks).max() <= 0.5 / 255 + 1e-6    # 8-bit soft masks
    assert stage1.images.shape[1:] == (INPUT_SIZE, INPUT_SIZE)
    for i in range(len(stage2.images)):
        redrawn = draw_filled(stage2.masks[i].shape, stage2.ellipses[i])
        assert _dice(redrawn, stage2.masks[i]) > 0.97, stage2.table["filename"][i]
        assert stage2.ellipses[i].semi_major <= SOURCE_SEMI_MAJOR_PX + 0.5
    assert read_gray(train["image_path"][0]).shape == (stage1.table["height"][0], stage1.table["width"][0])


def test_two_stage_script_trains_both_stages_from_a_pack(mini_dataset_csv, tmp_path):
    """The script a GPU machine runs, here on the CPU: stage 1, then stage 2 from it, last epochs kept."""
    packed = tmp_path / "pack.npz"
    pack(mini_dataset_csv, packed)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(ROOT / "scripts" / "train_two_stages.sh"), str(packed), str(out), "2", "2"],
                            capture_output=True, text=True, timeout=900, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    for stage in ("s1", "s2"):
        summary = json.loads((out / stage / "train_summary.json").read_text())
        assert summary["epochs_run"] == 2 and summary["kept"] == "last" and summary["best_epoch"] is None
        assert (out / stage / "model.keras").stat().st_size < (out / stage / "last.keras").stat().st_size
    assert "starting from the weights of" in result.stdout
