"""The TensorFlow backend: the SavedModel's ``serve`` endpoint (the format training exports)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from fetalhc.model.errors import ModelLoadError


@functools.cache
def configure_threads(threads: int) -> None:
    """Size TensorFlow's thread pools once per process, before its runtime starts.

    ``threads`` per operation and one operation at a time, as for the ONNX runtimes; when the
    runtime already runs (training in this process) its pools are kept.
    """
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass


def load_tensorflow_forward(model_dir: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """``model_dir``'s SavedModel as a function (N, 256, 256, 1) float32 -> (N, 256, 256, 1)."""
    if not model_dir.is_dir() or not (model_dir / "saved_model.pb").is_file():
        raise ModelLoadError(
            f"no SavedModel at {model_dir} (saved_model.pb missing); restore Trained_models/ from the "
            "repository or set FETALHC_MODEL_DIR to a model exported by fetalhc.training.train --export")
    configure_threads(threads)
    try:
        loaded = tf.saved_model.load(str(model_dir))
    except Exception as exc:  # TensorFlow raises many types for a damaged SavedModel
        raise ModelLoadError(f"the SavedModel at {model_dir} could not be loaded ({type(exc).__name__}: "
                             f"{str(exc)[:200]}); it is damaged or incomplete, restore it") from exc
    if not hasattr(loaded, "serve"):
        raise ModelLoadError(f"the SavedModel at {model_dir} has no `serve` endpoint (not a Keras "
                             "export); publish the model with `python -m fetalhc.model.publish`")

    def forward(x: np.ndarray) -> np.ndarray:
        # `loaded` is referenced here on purpose: `serve` holds only weak references to the variables.
        return loaded.serve(tf.constant(x)).numpy()

    return forward
