"""OpenVINO and ONNX Runtime serve the same network as the SavedModel, without TensorFlow.

The runtimes are compared on a fixed subset of the development images: every 20th row of
the data set CSV (``dataset/hc18_dataset.csv``, 798 rows -> 40 images) when it exists, else of
the HC18 training CSV (999 rows -> 50 images), which keeps the test to seconds while covering
the whole range of head sizes and devices.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fetalhc.data.dataset import DEFAULT_DATASET_CSV
from fetalhc.imaging import load_image_file
from fetalhc.imaging.types import PixelSpacing
from fetalhc.measurement import NoHeadFoundError, measure_head
from fetalhc.model.loader import load_segmenter

EVERY_NTH = 20
PROB_TOLERANCE = 1e-4
HC_TOLERANCE_MM = 0.05


@pytest.fixture(scope="module")
def dev_images(hc18) -> list[tuple[str, float]]:
    """(file name, pixel size in mm) of the compared images."""
    if DEFAULT_DATASET_CSV.is_file():
        table = pd.read_csv(DEFAULT_DATASET_CSV)
        rows = zip(table["filename"], table["pixel_size_mm"])
    else:
        table = pd.read_csv(hc18 / "training_set_pixel_size_and_HC.csv")
        rows = zip(table["filename"], table["pixel size(mm)"])
    return list(rows)[::EVERY_NTH]


def _hc_mm(prob: np.ndarray, shape: tuple[int, int], pixel_size_mm: float) -> float | None:
    try:
        return measure_head(prob, shape, PixelSpacing(pixel_size_mm, pixel_size_mm, "csv")).hc_mm
    except NoHeadFoundError:
        return None


@pytest.fixture(scope="module")
def savedmodel_answers(hc18, model_dir, dev_images) -> list[tuple[np.ndarray, float | None]]:
    """(probability map, HC in mm) of each compared image from the SavedModel in TensorFlow."""
    tf = load_segmenter(model_dir, runtime="tensorflow")
    answers = []
    for name, pixel_size_mm in dev_images:
        gray = load_image_file(hc18 / "training_set" / name).pixels
        prob = tf.predict(gray)
        answers.append((prob, _hc_mm(prob, gray.shape, pixel_size_mm)))
    return answers


@pytest.mark.parametrize("runtime", ["openvino", "onnx"])
def test_onnx_runtime_matches_savedmodel_on_dev_images(hc18, model_dir, dev_images, savedmodel_answers, runtime):
    segmenter = load_segmenter(model_dir, runtime=runtime)
    assert segmenter.runtime == runtime
    worst_prob = worst_hc = 0.0
    for (name, pixel_size_mm), (p_tf, hc_tf) in zip(dev_images, savedmodel_answers):
        gray = load_image_file(hc18 / "training_set" / name).pixels
        prob = segmenter.predict(gray)
        worst_prob = max(worst_prob, float(np.abs(prob - p_tf).max()))
        hc = _hc_mm(prob, gray.shape, pixel_size_mm)
        assert (hc is None) == (hc_tf is None), name
        if hc is not None:
            worst_hc = max(worst_hc, abs(hc - hc_tf))
    assert worst_prob <= PROB_TOLERANCE, worst_prob
    assert worst_hc <= HC_TOLERANCE_MM, worst_hc


def test_serving_through_model_onnx_never_imports_tensorflow(model_dir):
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import fetalhc.predictor, fetalhc.imaging, fetalhc.measurement, fetalhc.clinical, fetalhc.overlay\n"
        "import fetalhc.model.preprocess, fetalhc.web\n"
        "from fetalhc.model.loader import load_segmenter\n"
        f"s = load_segmenter({str(model_dir)!r})\n"
        "s.predict(np.zeros((540, 800), np.uint8))\n"
        "print(s.runtime, sorted(m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FETALHC_RUNTIME"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["openvino", "[]"], result.stdout
