"""The one loader of the trained network, used by the app, the command line and the tests."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fetalhc.model.network import INPUT_SIZE
from fetalhc.model.preprocess import to_model_input
from fetalhc.paths import DEFAULT_MODEL_DIR

CARD_NAME = "model_card.json"


class ModelLoadError(RuntimeError):
    """The model folder is missing, incomplete or not a loadable SavedModel."""


@dataclass
class Segmenter:
    """A loaded segmentation network: grayscale images in, head probability maps out."""

    path: Path
    card: dict = field(repr=False)
    _serve: object = field(repr=False)
    flip_tta: bool = True

    @property
    def name(self) -> str:
        return str(self.card.get("name", self.path.name))

    @property
    def version(self) -> str:
        return str(self.card.get("version", "unversioned"))

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """(N, 256, 256) float32 in [0, 1] -> (N, 256, 256) probabilities.

        With ``flip_tta`` the map is averaged with the prediction on the mirrored image, which
        steadies the outline where the skull echo is weak on one side.
        """
        import tensorflow as tf

        x = np.ascontiguousarray(batch, dtype=np.float32)[..., None]
        prob = self._serve(tf.constant(x)).numpy()[..., 0]
        if self.flip_tta:
            flipped = self._serve(tf.constant(x[:, :, ::-1].copy())).numpy()[..., 0]
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


def load_segmenter(path: str | Path | None = None, flip_tta: bool = True) -> Segmenter:
    """Load the SavedModel at ``path`` (default ``Trained_models/dag_vnet``) and check its signature."""
    path = Path(path) if path else DEFAULT_MODEL_DIR
    if not path.is_dir() or not (path / "saved_model.pb").is_file():
        raise ModelLoadError(
            f"no SavedModel at {path} (saved_model.pb missing); restore Trained_models/ from the "
            "repository or set FETALHC_MODEL_DIR to a model exported by fetalhc.training.train --export")
    card = read_card(path)
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(path))
        serve = loaded.signatures["serving_default"] if not hasattr(loaded, "serve") else loaded.serve
    except Exception as exc:  # TensorFlow raises many types for a damaged SavedModel
        raise ModelLoadError(f"the SavedModel at {path} could not be loaded ({type(exc).__name__}: "
                             f"{str(exc)[:200]}); it is damaged or incomplete, restore it") from exc
    segmenter = Segmenter(path, card, serve, flip_tta)
    try:
        out = segmenter.predict_batch(np.zeros((1, INPUT_SIZE, INPUT_SIZE), np.float32))
    except Exception as exc:
        raise ModelLoadError(f"the model at {path} does not accept a 256x256 grayscale image: {exc}") from exc
    if out.shape != (1, INPUT_SIZE, INPUT_SIZE):
        raise ModelLoadError(f"the model at {path} returns shape {out.shape}, expected (1, 256, 256)")
    return segmenter
