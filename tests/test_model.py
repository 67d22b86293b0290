"""The network, quick training, export and the model loader."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fetalhc.imaging.types import LoadedImage
from fetalhc.measurement import NoHeadFoundError
from fetalhc.model.constants import STAGE2_DIR
from fetalhc.model.loader import ModelLoadError, load_segmenter
from fetalhc.model.losses import boundary_dice_bce_loss, boundary_weights, dice_bce_loss
from fetalhc.model.network import HEAD_NAMES, build_dag_vnet
from fetalhc.predictor import load_predictor
from fetalhc.settings import Settings


def test_network_has_three_named_full_resolution_heads():
    model = build_dag_vnet()
    assert list(model.output_names) == list(HEAD_NAMES)
    out = model(np.zeros((2, 256, 256, 1), np.float32))
    assert [tuple(o.shape) for o in out] == [(2, 256, 256, 1)] * 3
    assert all(0.0 <= float(o.numpy().min()) and float(o.numpy().max()) <= 1.0 for o in out)
    assert 1_000_000 < model.count_params() < 5_000_000
    assert any("att" in layer.name and "gate" in layer.name for layer in model.layers)


def test_boundary_loss_weighs_errors_at_the_outline_more_than_the_plain_loss():
    """The same number of wrong pixels costs more on the outline's band than far from the head."""
    yy, xx = np.mgrid[:64, :64]
    r2 = (yy - 32) ** 2 + (xx - 32) ** 2
    target = (r2 < 20 ** 2).astype(np.float32)[None, ..., None]
    shrunk = target.copy()
    shrunk[0, (r2 >= 18 ** 2) & (r2 < 20 ** 2), 0] = 0  # the outer rim missed
    wrong = int((target - shrunk).sum())
    stray = target.copy()
    stray[0, :4, :wrong // 4, 0] = 1  # as many pixels wrong in a corner
    assert int((stray - target).sum()) == wrong

    def ratio(loss):
        return float(loss(target, np.clip(shrunk, 0.02, 0.98))[0]) / float(loss(target, np.clip(stray, 0.02, 0.98))[0])

    assert ratio(boundary_dice_bce_loss) > 2 * ratio(dice_bce_loss)
    weights = np.asarray(boundary_weights(target))
    assert weights.min() == 1.0 and weights.max() == 5.0 and weights[0, 32, 32] == 1.0 and weights[0, 32, 12] == 5.0


def test_quick_training_writes_a_loadable_savedmodel(mini_dataset_csv, tmp_path):
    run = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "fetalhc.training.train", "--quick", "--dataset-csv",
                             str(mini_dataset_csv), "--out", str(run), "--export", str(run / "savedmodel")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("pairs_check.png", "history.csv", "learning_curves.png", "best.keras", "last.keras"):
        assert (run / name).is_file(), name
    segmenter = load_segmenter(run / "savedmodel")
    prob = segmenter.predict(np.zeros((540, 800), np.uint8))
    assert prob.shape == (256, 256) and np.isfinite(prob).all()
    # Resume continues after the last finished epoch instead of starting over.
    result = subprocess.run([sys.executable, "-m", "fetalhc.training.train", "--quick", "--resume", "--epochs", "3",
                             "--dataset-csv", str(mini_dataset_csv), "--out", str(run)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "resumed from" in result.stdout
    assert len((run / "history.csv").read_text().strip().splitlines()) == 1 + 3


def test_quick_two_stage_training_publishes_a_second_stage_the_predictor_uses(mini_dataset_csv, model_dir, tmp_path):
    """Stage 2 starts from stage 1's weights, keeps its last epoch, and is published beside stage 1 with
    the loss it was trained with."""
    run = tmp_path / "stage2"
    result = subprocess.run([sys.executable, "-m", "fetalhc.training.train", "--quick", "--stage", "2", "--keep", "last",
                             "--init-from", str(model_dir), "--loss", "boundary", "--dataset-csv", str(mini_dataset_csv),
                             "--out", str(run)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "starting from the weights of" in result.stdout and "stage 2" in result.stdout
    bundle = tmp_path / "two_stage"
    shutil.copytree(model_dir, bundle, ignore=shutil.ignore_patterns(STAGE2_DIR, "uncertainty.json"))
    # The same run stands in for two earlier runs of a chain of warm restarts: the card lists all three.
    result = subprocess.run([sys.executable, "-m", "fetalhc.model.publish", "--run", str(run), "--stage", "2",
                             "--warm-start-run", str(run), "--warm-start-run", str(run),
                             "--dataset-csv", str(mini_dataset_csv), "--out", str(bundle)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    card = json.loads((bundle / STAGE2_DIR / "model_card.json").read_text())
    assert card["name"] == "dag_vnet_stage2" and "last epoch" in card["training"]["selection"]
    stages = card["training"]["stages"]
    assert len(stages) == 3 and card["training"]["epochs_total"] == 3 * stages[0]["epochs_run"]
    assert all(st["loss"] == "boundary" for st in stages) and "band" in card["training"]["loss"]
    predictor = load_predictor(Settings(), model_dir=bundle)
    assert predictor.refiner is not None and predictor.uncertainty is None
    image = LoadedImage(cv2.imread(str(mini_dataset_csv.parent / "hc18" / "training_set" / "000_HC.png"), 0), None, "png")
    try:
        m = predictor.measure(image)
    except NoHeadFoundError:  # two quick steps may leave stage 2 blind; the road itself ran
        return
    assert m.coarse is not None and m.stage_disagreement is not None


def test_loader_rejects_a_missing_model(tmp_path):
    with pytest.raises(ModelLoadError, match="no SavedModel"):
        load_segmenter(tmp_path / "absent")


def test_loader_rejects_a_corrupt_model(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01garbage" * 100)
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        load_segmenter(tmp_path)


def test_committed_model_loads_and_describes_itself(segmenter):
    card = segmenter.card
    for key in ("name", "version", "architecture", "parameters", "input", "data_split", "training", "metrics",
                "intended_use"):
        assert key in card, key
    assert "not for diagnostic use" in card["intended_use"].lower()
    prob = segmenter.predict(np.zeros((540, 800), np.uint8))
    assert prob.shape == (256, 256)


def test_flip_tta_averages_with_the_mirrored_prediction(model_dir):
    plain, tta = load_segmenter(model_dir), load_segmenter(model_dir, flip_tta=True)
    assert not plain.flip_tta  # off by default: it did not help on the validation subjects
    x = np.random.default_rng(0).random((2, 256, 256), dtype=np.float32)
    expected = 0.5 * (plain.predict_batch(x) + plain.predict_batch(x[:, :, ::-1].copy())[:, :, ::-1])
    np.testing.assert_allclose(tta.predict_batch(x), expected, atol=1e-6)
