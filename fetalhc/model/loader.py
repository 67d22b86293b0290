"""The one loader of the trained network, used by the app, the command line and the tests.

Three runtimes serve the same network. OpenVINO and ONNX Runtime both run ``model.onnx``
(exported beside the SavedModel by ``python -m fetalhc.model.onnx_export``; they start in a
fraction of a second, without TensorFlow in the process); TensorFlow runs the SavedModel
itself. The caller picks one (``Settings.runtime``, from ``FETALHC_RUNTIME``); by default the
first of OpenVINO (the fastest, see docs/performance.md), ONNX Runtime, TensorFlow that is
installed and has its file.
"""
from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fetalhc.model.constants import INPUT_SIZE
from fetalhc.model.errors import ModelLoadError
from fetalhc.model.onnx_file import ONNX_NAME
from fetalhc.model.preprocess import to_model_input
from fetalhc.settings import DEFAULT_MODEL_DIR, RUNTIMES

__all__ = ["CARD_NAME", "RUNTIMES", "ModelLoadError", "Segmenter", "choose_runtime", "load_segmenter", "read_card"]

CARD_NAME = "model_card.json"
# The package each runtime needs, and the loader of its forward function.
_BACKENDS = {
    "openvino": ("openvino", "fetalhc.model.backend_openvino", "load_openvino_forward"),
    "onnx": ("onnxruntime", "fetalhc.model.backend_onnx", "load_onnx_forward"),
    "tensorflow": ("tensorflow", "fetalhc.model.backend_tensorflow", "load_tensorflow_forward"),
}
DEFAULT_THREADS = 2  # App Runner's 2 vCPUs


@dataclass
class Segmenter:
    """A loaded segmentation network: grayscale images in, head probability maps out."""

    path: Path
    card: dict = field(repr=False)
    # (N, 256, 256, 1) float32 -> (N, 256, 256, 1) probabilities, in the chosen runtime.
    _forward: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    runtime: str
    flip_tta: bool = False

    @property
    def name(self) -> str:
        return str(self.card.get("name", self.path.name))

    @property
    def version(self) -> str:
        return str(self.card.get("version", "unversioned"))

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """(N, 256, 256) float32 in [0, 1] -> (N, 256, 256) probabilities.

        With ``flip_tta`` the map is averaged with the prediction on the mirrored image. It is off
        by default: on the validation subjects it did not lower the HC error of the committed
        model (see its model card) and it doubles the cost of a prediction.
        """
        x = np.ascontiguousarray(batch, dtype=np.float32)[..., None]
        prob = self._forward(x)[..., 0]
        if self.flip_tta:
            flipped = self._forward(np.ascontiguousarray(x[:, :, ::-1]))[..., 0]
            prob = 0.5 * (prob + flipped[:, :, ::-1])
        return prob

    def predict(self, gray: np.ndarray) -> np.ndarray:
        """One ``uint8`` grayscale image of any size -> (256, 256) probability map."""
        return self.predict_batch(to_model_input(gray)[None])[0]


def read_card(path: Path) -> dict:
    card_path = Path(path) / CARD_NAME
    if not card_path.is_file():
        return {}
    try:
        return json.loads(card_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{card_path} is not valid JSON ({exc}); restore it from the repository") from exc


def choose_runtime(path: Path, runtime: str | None = None) -> str:
    """``runtime``, else the first of :data:`RUNTIMES` that can run ``path``."""
    runtime = (runtime or "").strip().lower()
    if runtime:
        if runtime not in RUNTIMES:
            raise ModelLoadError(f"unknown runtime {runtime!r} (FETALHC_RUNTIME); use one of {', '.join(RUNTIMES)}")
        return runtime
    if (path / ONNX_NAME).is_file():
        for candidate in ("openvino", "onnx"):  # the runtimes of model.onnx
            if _installed(_BACKENDS[candidate][0]):
                return candidate
    return "tensorflow"


def _installed(package: str) -> bool:
    try:
        importlib.import_module(package)  # the chosen runtime is imported next anyway
    except ImportError:
        return False
    return True


def load_segmenter(path: str | Path | None = None, flip_tta: bool = False, runtime: str | None = None,
                   threads: int | None = None) -> Segmenter:
    """Load the model at ``path`` (default ``Trained_models/dag_vnet``) in ``runtime`` and check its signature.

    ``runtime`` is one of :data:`RUNTIMES` (default: :func:`choose_runtime`); ``threads`` the threads
    of one prediction (default 2).
    """
    path = Path(path) if path else DEFAULT_MODEL_DIR
    runtime = choose_runtime(path, runtime)
    threads = threads or DEFAULT_THREADS
    card = read_card(path)
    _, module, function = _BACKENDS[runtime]
    # Imported here so that a process serving model.onnx never imports TensorFlow.
    try:
        load_forward = getattr(importlib.import_module(module), function)
    except ImportError as exc:
        advice = (f"the serving requirements (requirements-serve.txt) run {ONNX_NAME} only; write it with "
                  "`python -m fetalhc.model.onnx_export` where requirements.txt is installed"
                  if runtime == "tensorflow" else
                  "install requirements.txt (or requirements-serve.txt), or choose another runtime with "
                  "FETALHC_RUNTIME")
        raise ModelLoadError(f"cannot load {path} with the {runtime} runtime: {exc.name} is not installed; "
                             f"{advice}") from exc
    segmenter = Segmenter(path, card, load_forward(path, threads), runtime, flip_tta)
    try:
        out = segmenter.predict_batch(np.zeros((1, INPUT_SIZE, INPUT_SIZE), np.float32))
    except Exception as exc:
        raise ModelLoadError(f"the model at {path} does not accept a 256x256 grayscale image: {exc}") from exc
    if out.shape != (1, INPUT_SIZE, INPUT_SIZE):
        raise ModelLoadError(f"the model at {path} returns shape {out.shape}, expected (1, 256, 256)")
    return segmenter
