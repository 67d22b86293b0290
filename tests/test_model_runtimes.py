"""Choosing and loading a runtime: defaults, environment, threads, and the errors of a bad ``model.onnx``."""
from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import pytest

from fetalhc.model.loader import ModelLoadError, choose_runtime, load_segmenter
from fetalhc.model.onnx_file import ONNX_NAME, SOURCE_DIGEST_KEY
from fetalhc.predictor import load_predictor
from fetalhc.settings import ConfigError, Settings


ONNX_RUNTIMES = ["openvino", "onnx"]


@pytest.fixture
def model_copy(model_dir, tmp_path):
    """A writable copy of the committed model folder (SavedModel, card and model.onnx)."""
    return shutil.copytree(model_dir, tmp_path / "model")


def test_default_runtime_is_the_first_installed_one_that_has_its_file(model_copy, monkeypatch):
    assert choose_runtime(model_copy) == "openvino"
    monkeypatch.setitem(sys.modules, "openvino", None)  # not installed
    assert choose_runtime(model_copy) == "onnx"
    (model_copy / ONNX_NAME).unlink()
    assert choose_runtime(model_copy) == "tensorflow"


def test_environment_and_argument_choose_the_runtime(model_copy):
    assert Settings.from_env({"FETALHC_RUNTIME": "TensorFlow"}).runtime == "tensorflow"
    assert choose_runtime(model_copy, "TensorFlow") == "tensorflow"
    assert choose_runtime(model_copy, "onnx") == "onnx"
    with pytest.raises(ConfigError, match="FETALHC_RUNTIME='torch'"):
        Settings.from_env({"FETALHC_RUNTIME": "torch"})
    with pytest.raises(ModelLoadError, match="unknown runtime 'torch'"):
        choose_runtime(model_copy, "torch")


@pytest.mark.parametrize("runtime", ONNX_RUNTIMES)
def test_onnx_runtimes_load_with_the_chosen_threads(model_copy, runtime):
    settings = Settings.from_env({"FETALHC_THREADS": "1", "FETALHC_MODEL_DIR": str(model_copy)})
    predictor = load_predictor(settings, runtime=runtime)
    assert predictor.segmenter.runtime == runtime
    assert predictor.segmenter.predict(np.zeros((540, 800), np.uint8)).shape == (256, 256)
    with pytest.raises(ConfigError, match="FETALHC_THREADS"):
        Settings.from_env({"FETALHC_THREADS": "two"})


@pytest.mark.parametrize("runtime", ONNX_RUNTIMES)
def test_missing_model_onnx_is_a_load_error(model_copy, runtime):
    (model_copy / ONNX_NAME).unlink()
    with pytest.raises(ModelLoadError, match="no model.onnx .*onnx_export"):
        load_segmenter(model_copy, runtime=runtime)


@pytest.mark.parametrize("runtime", ONNX_RUNTIMES)
@pytest.mark.parametrize("beside_savedmodel", [True, False], ids=["repository", "serving-image"])
def test_corrupt_model_onnx_is_a_load_error(model_copy, runtime, beside_savedmodel):
    if not beside_savedmodel:  # as in the Docker image: the runtime itself meets the damage
        (model_copy / "saved_model.pb").unlink()
    (model_copy / ONNX_NAME).write_bytes(b"\x08\x01garbage" * 100)
    with pytest.raises(ModelLoadError, match="could not be loaded.*onnx_export"):
        load_segmenter(model_copy, runtime=runtime)


@pytest.mark.parametrize("runtime", ONNX_RUNTIMES)
@pytest.mark.parametrize("digest", ["0" * 64, None], ids=["other", "none"])
def test_model_onnx_of_another_savedmodel_is_refused(model_copy, runtime, digest):
    proto = onnx.load(model_copy / ONNX_NAME)
    del proto.metadata_props[:]
    if digest:
        onnx.helper.set_model_props(proto, {SOURCE_DIGEST_KEY: digest})
    onnx.save(proto, model_copy / ONNX_NAME)
    with pytest.raises(ModelLoadError, match="stale"):
        load_segmenter(model_copy, runtime=runtime)
    (model_copy / "saved_model.pb").unlink()  # as in the serving image: nothing to compare with
    assert load_segmenter(model_copy, runtime=runtime).runtime == runtime


def test_a_runtime_that_is_not_installed_is_a_load_error(model_copy, monkeypatch):
    (model_copy / ONNX_NAME).unlink()
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as in the serving image
    monkeypatch.delitem(sys.modules, "fetalhc.model.backend_tensorflow", raising=False)
    with pytest.raises(ModelLoadError, match="tensorflow is not installed.*onnx_export"):
        load_segmenter(model_copy)


def test_a_chosen_onnx_runtime_that_is_not_installed_is_a_load_error(model_copy, monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    monkeypatch.delitem(sys.modules, "fetalhc.model.backend_openvino", raising=False)
    with pytest.raises(ModelLoadError, match="openvino is not installed.*FETALHC_RUNTIME"):
        load_segmenter(model_copy, runtime="openvino")


def test_openvino_gives_each_thread_its_own_request(model_dir):
    """gunicorn --threads calls one loaded model from several threads at once."""
    segmenter = load_segmenter(model_dir, runtime="openvino")
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (300, 400), dtype=np.uint8) for _ in range(8)]
    alone = [segmenter.predict(g) for g in images]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(segmenter.predict, images * 3))
    for i, prob in enumerate(together):
        np.testing.assert_array_equal(prob, alone[i % len(images)])
    # An answer is the caller's own: the next prediction does not overwrite it.
    first = segmenter.predict(images[0])
    segmenter.predict(images[1])
    np.testing.assert_array_equal(first, alone[0])


def test_openvino_batches_match_single_images(model_dir):
    """Single images run through a model compiled for batch 1, batches through another."""
    segmenter = load_segmenter(model_dir, runtime="openvino")
    batch = np.random.default_rng(2).random((3, 256, 256), dtype=np.float32)
    together = segmenter.predict_batch(batch)
    for x, prob in zip(batch, together):
        np.testing.assert_allclose(segmenter.predict_batch(x[None])[0], prob, atol=1e-5)
