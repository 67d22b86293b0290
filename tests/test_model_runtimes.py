"""Choosing and loading a runtime: defaults, environment, and the errors of a bad ``model.onnx``."""
from __future__ import annotations

import shutil
import sys

import numpy as np
import onnx
import pytest

from fetalhc.model.loader import ModelLoadError, choose_runtime, load_segmenter
from fetalhc.model.onnx_file import ONNX_NAME, SOURCE_DIGEST_KEY


@pytest.fixture
def model_copy(model_dir, tmp_path):
    """A writable copy of the committed model folder (SavedModel, card and model.onnx)."""
    return shutil.copytree(model_dir, tmp_path / "model")


def test_default_runtime_is_onnx_when_model_onnx_is_there(model_copy, monkeypatch):
    monkeypatch.delenv("FETALHC_RUNTIME", raising=False)
    assert choose_runtime(model_copy) == "onnx"
    (model_copy / ONNX_NAME).unlink()
    assert choose_runtime(model_copy) == "tensorflow"


def test_environment_and_argument_choose_the_runtime(model_copy, monkeypatch):
    monkeypatch.setenv("FETALHC_RUNTIME", "TensorFlow")
    assert choose_runtime(model_copy) == "tensorflow"
    assert choose_runtime(model_copy, "onnx") == "onnx"
    monkeypatch.setenv("FETALHC_RUNTIME", "torch")
    with pytest.raises(ModelLoadError, match="unknown runtime 'torch'"):
        choose_runtime(model_copy)


def test_onnx_runtime_loads_with_the_chosen_threads(model_copy, monkeypatch):
    monkeypatch.setenv("FETALHC_THREADS", "1")
    segmenter = load_segmenter(model_copy, runtime="onnx")
    assert segmenter.runtime == "onnx"
    assert segmenter.predict(np.zeros((540, 800), np.uint8)).shape == (256, 256)
    monkeypatch.setenv("FETALHC_THREADS", "two")
    with pytest.raises(ModelLoadError, match="FETALHC_THREADS"):
        load_segmenter(model_copy, runtime="onnx")


def test_missing_model_onnx_is_a_load_error(model_copy):
    (model_copy / ONNX_NAME).unlink()
    with pytest.raises(ModelLoadError, match="no model.onnx .*onnx_export"):
        load_segmenter(model_copy, runtime="onnx")


def test_corrupt_model_onnx_is_a_load_error(model_copy):
    (model_copy / ONNX_NAME).write_bytes(b"\x08\x01garbage" * 100)
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        load_segmenter(model_copy)


def test_model_onnx_of_another_savedmodel_is_refused(model_copy):
    proto = onnx.load(model_copy / ONNX_NAME)
    onnx.helper.set_model_props(proto, {SOURCE_DIGEST_KEY: "0" * 64})
    onnx.save(proto, model_copy / ONNX_NAME)
    with pytest.raises(ModelLoadError, match="stale"):
        load_segmenter(model_copy)


def test_a_runtime_that_is_not_installed_is_a_load_error(model_copy, monkeypatch):
    (model_copy / ONNX_NAME).unlink()
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as in the serving image
    monkeypatch.delitem(sys.modules, "fetalhc.model.backend_tensorflow", raising=False)
    with pytest.raises(ModelLoadError, match="tensorflow is not installed.*onnx_export"):
        load_segmenter(model_copy)
