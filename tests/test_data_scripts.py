"""HC18 data preparation: masks, data set CSV, split and augmentation."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fetalhc.data.annotations import make_mask
from fetalhc.data.augment import build_transform
from fetalhc.data.dataset import read_gray
from fetalhc.data.hc18 import annotation_name, read_training_table, subject_id
from fetalhc.data.split import split_by_subject
from fetalhc.measurement.geometry import Ellipse, draw_filled

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["Create_Mask_Image_For_DataSet.py", "creating_csv_for_dataset.py", "Create_Augmented_Pics.py",
           "creating_csv_for_augmentedpic.py"]


def run_script(name: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_subject_id_is_the_leading_number():
    assert subject_id("010_2HC.png") == "010"
    assert subject_id("/x/y/123_HC_Annotation.png") == "123"
    with pytest.raises(ValueError):
        subject_id("HC_010.png")


def test_split_keeps_subjects_together_and_is_reproducible():
    subjects = pd.Series([f"{i // 2:03d}" for i in range(400)])  # 200 subjects, 2 images each
    split = split_by_subject(subjects, 0.15, seed=7)
    by_subject = pd.DataFrame({"s": subjects, "split": split}).groupby("s")["split"].nunique()
    assert (by_subject == 1).all()
    assert (split == "validation").sum() == 2 * 30
    shuffled = subjects.sample(frac=1.0, random_state=3)
    assert (split_by_subject(shuffled, 0.15, seed=7) == split.loc[shuffled.index]).all()
    assert not (split_by_subject(subjects, 0.15, seed=8) == split).all()


def test_augmentation_moves_image_and_mask_together():
    e = Ellipse(200, 150, 90, 60, 20)
    mask = draw_filled((300, 400), e)
    image = np.where(mask > 0, 200, 30).astype(np.uint8)
    transform = build_transform(cv2.INTER_NEAREST, seed=5)
    for _ in range(5):
        out = transform(image=image, mask=mask)
        assert set(np.unique(out["mask"])) <= {0, 255}
        bright = out["image"] > 115
        m = out["mask"] > 0
        assert np.logical_and(bright, m).sum() / np.logical_or(bright, m).sum() > 0.95


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_have_help(script):
    result = run_script(script, "--help")
    assert result.returncode == 0
    assert "usage" in result.stdout


def test_missing_data_gives_a_clear_error(tmp_path):
    result = run_script("Create_Mask_Image_For_DataSet.py", env={"HC18_DIR": str(tmp_path / "nowhere")})
    assert result.returncode == 2
    assert "HC18 data not found" in result.stderr and "HC18_DIR" in result.stderr
    result = run_script("creating_csv_for_augmentedpic.py", "--dataset-csv", str(tmp_path / "none.csv"))
    assert result.returncode == 2 and "Create_Mask_Image_For_DataSet" in result.stderr


def test_every_hc18_mask_reproduces_the_csv_hc(hc18):
    table = read_training_table(hc18)
    assert len(table) == 798
    errors = []
    for row in table.itertuples():
        annotation = read_gray(hc18 / "training_set" / annotation_name(row.filename))
        mask, result = make_mask(annotation, row.pixel_size_mm, row.hc_mm, row.filename)
        assert mask.shape == annotation.shape
        errors.append(result.relative_error)
    assert max(errors) < 0.001, f"worst relative HC error {max(errors):.5f}"


def test_scripts_end_to_end(mini_hc18, tmp_path):
    masks, dataset_csv = tmp_path / "masks", tmp_path / "dataset.csv"
    aug_dir, aug_csv = tmp_path / "aug", tmp_path / "aug.csv"
    r = run_script("Create_Mask_Image_For_DataSet.py", "--hc18-dir", str(mini_hc18), "--out", str(masks))
    assert r.returncode == 0, r.stderr
    assert "0 outside" in r.stdout
    r = run_script("creating_csv_for_dataset.py", "--hc18-dir", str(mini_hc18), "--mask-dir", str(masks),
                   "--out", str(dataset_csv), "--val-fraction", "0.25")
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(dataset_csv, dtype={"subject": str})
    assert len(table) == 12 and table.subject.nunique() < 12
    assert set(table[table.split == "train"].subject).isdisjoint(table[table.split == "validation"].subject)
    for row in table.itertuples():  # paired by stem, same size
        assert Path(row.mask_path).name == row.filename.replace(".png", "_Mask.png")
        assert read_gray(row.mask_path).shape == read_gray(row.image_path).shape
    r = run_script("Create_Augmented_Pics.py", "--dataset-csv", str(dataset_csv), "--out", str(aug_dir),
                   "--copies", "2", "--workers", "2", "--seed", "1")
    assert r.returncode == 0, r.stderr
    r = run_script("creating_csv_for_augmentedpic.py", "--dataset-csv", str(dataset_csv), "--aug-dir", str(aug_dir),
                   "--out", str(aug_csv))
    assert r.returncode == 0, r.stderr
    aug = pd.read_csv(aug_csv, dtype={"subject": str})
    n_train = (table.split == "train").sum()
    assert len(aug) == 2 * n_train
    assert (aug["split"] == "train").all()
    for row in aug.itertuples():
        assert Path(row.mask_path).stem == Path(row.image_path).stem + "_Mask"
        assert row.filename.startswith(Path(row.source_filename).stem + "_aug")
        assert set(np.unique(read_gray(row.mask_path))) <= {0, 255}
