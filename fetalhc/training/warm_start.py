"""Start a network from another one's weights: a warm restart, or stage 2 from stage 1."""
from __future__ import annotations

from pathlib import Path

import keras


def load_weights(model: keras.Model, source: Path) -> int:
    """Copy every tensor of ``source`` (a ``.keras`` file or an exported SavedModel folder) whose
    name and shape match one of ``model``'s; returns how many were copied.

    A SavedModel export holds the served head only, so the auxiliary heads keep their fresh
    initialisation; a network of other widths shares nothing and is refused.
    """
    source = Path(source)
    if source.is_dir():
        import tensorflow as tf  # only a SavedModel needs TensorFlow; a .keras file loads on any backend

        tensors = {v.name.removesuffix(":0"): v.numpy() for v in tf.saved_model.load(str(source)).variables}
    else:
        tensors = {w.path: w.numpy() for w in keras.models.load_model(source, compile=False).weights}
    copied = 0
    for weight in model.weights:
        value = tensors.get(weight.path)
        if value is not None and tuple(value.shape) == tuple(weight.shape):
            weight.assign(value)
            copied += 1
    if copied == 0:
        raise ValueError(f"{source} shares no weights with this network (other widths?)")
    return copied
