"""Export of a trained network to the SavedModel the app loads."""
from __future__ import annotations

from pathlib import Path

import keras


def export_savedmodel(model: keras.Model, path: Path) -> None:
    """Write the inference graph (main head only) as a TensorFlow SavedModel at ``path``.

    The auxiliary heads only guide training; dropping them keeps serving lean.
    """
    inference = keras.Model(model.input, model.get_layer("main_output").output, name="dag_vnet_inference")
    inference.export(str(path), format="tf_saved_model", verbose=False)
