"""The network, quick training, export and the model loader."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fetalhc.model.loader import ModelLoadError, load_segmenter
from fetalhc.model.network import HEAD_NAMES, build_dag_vnet


def test_network_has_three_named_full_resolution_heads():
    model = build_dag_vnet()
    assert list(model.output_names) == list(HEAD_NAMES)
    out = model(np.zeros((2, 256, 256, 1), np.float32))
    assert [tuple(o.shape) for o in out] == [(2, 256, 256, 1)] * 3
    assert all(0.0 <= float(o.numpy().min()) and float(o.numpy().max()) <= 1.0 for o in out)
    assert 1_000_000 < model.count_params() < 5_000_000
    assert any("att" in layer.name and "gate" in layer.name for layer in model.layers)


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
