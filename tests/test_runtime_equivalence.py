"""OpenVINO and ONNX Runtime serve the same networks (both stages) as the SavedModels, without TensorFlow.

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
from fetalhc.imaging.types import LoadedImage
from fetalhc.measurement import NoHeadFoundError
from fetalhc.measurement.frame import MapFrame
from fetalhc.model.constants import CROP_MARGIN, INPUT_SIZE
from fetalhc.predictor import load_predictor
from fetalhc.settings import Settings

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


def _windows(predictor, gray: np.ndarray, pixel_size_mm: float, frame: MapFrame | None = None):
    """The answer's HC, its stage-1 window, stage 1's map, and stage 2's map of ``frame`` (default:
    the window around this predictor's own stage-1 ellipse)."""
    try:
        m = predictor.measure(LoadedImage(gray, None, "png"), pixel_size_mm)
    except NoHeadFoundError:
        return None, None, None, None
    stage2 = None
    if predictor.refiner is not None:
        frame = frame or MapFrame.around(m.coarse.ellipse, gray.shape, INPUT_SIZE, CROP_MARGIN)
        stage2 = predictor.refiner.predict_batch((frame.extract(gray) / np.float32(255.0))[None])[0]
    return m.biometry.hc_mm, frame, predictor.segmenter.predict(gray), stage2


@pytest.fixture(scope="module")
def savedmodel_answers(hc18, model_dir, dev_images):
    """(HC in mm, window, stage-1 map, stage-2 map) of each image from the SavedModels in TensorFlow."""
    tf = load_predictor(Settings(), model_dir=model_dir, runtime="tensorflow")
    return [_windows(tf, load_image_file(hc18 / "training_set" / name).pixels, size) for name, size in dev_images]


@pytest.mark.parametrize("runtime", ["openvino", "onnx"])
def test_onnx_runtime_matches_savedmodel_on_dev_images(hc18, model_dir, dev_images, savedmodel_answers, runtime):
    """Every stage of the served model, and the answer, as in TensorFlow."""
    predictor = load_predictor(Settings(), model_dir=model_dir, runtime=runtime)
    assert predictor.segmenter.runtime == runtime
    worst_prob = worst_hc = 0.0
    for (name, pixel_size_mm), (hc_tf, frame, *maps_tf) in zip(dev_images, savedmodel_answers):
        gray = load_image_file(hc18 / "training_set" / name).pixels
        hc, _, *maps = _windows(predictor, gray, pixel_size_mm, frame)  # stage 2 on the same window
        assert (hc is None) == (hc_tf is None), name
        if hc is not None:
            worst_hc = max(worst_hc, abs(hc - hc_tf))
            for prob, prob_tf in zip(maps, maps_tf):
                if prob_tf is not None:
                    worst_prob = max(worst_prob, float(np.abs(prob - prob_tf).max()))
    assert worst_prob <= PROB_TOLERANCE, worst_prob
    assert worst_hc <= HC_TOLERANCE_MM, worst_hc


def test_serving_through_model_onnx_never_imports_tensorflow(model_dir):
    code = (
        "import sys\n"
        "import numpy as np\n"
        "import fetalhc.predictor, fetalhc.imaging, fetalhc.measurement, fetalhc.clinical, fetalhc.overlay\n"
        "import fetalhc.model.preprocess, fetalhc.web\n"
        "from fetalhc.predictor import load_predictor\n"
        f"p = load_predictor(model_dir={str(model_dir)!r})\n"
        "p.segmenter.predict(np.zeros((540, 800), np.uint8))\n"
        "print(p.segmenter.runtime, sorted(m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FETALHC_RUNTIME"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["openvino", "[]"], result.stdout
