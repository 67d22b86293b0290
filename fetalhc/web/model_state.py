"""The segmentation model of one app: loaded once at start-up, or the reason it could not be."""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from fetalhc.model.loader import ModelLoadError, Segmenter, load_segmenter

log = logging.getLogger(__name__)

EXTENSION_KEY = "fetalhc_model"


@dataclass(frozen=True)
class ModelState:
    segmenter: Segmenter | None
    error: str | None            # why the model is missing; None when loaded
    started: float = field(default_factory=time.monotonic)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started


def load_model_state(config: Mapping[str, Any]) -> ModelState:
    """The model of ``config["SEGMENTER"]`` (already loaded) or ``config["MODEL_DIR"]``.

    ``load_segmenter`` runs one prediction to check the model's signature; that prediction
    also traces the serving function, so the first upload is as fast as the others.
    A model that cannot be loaded leaves the app running, answering 503 until it is fixed.
    """
    if config.get("SEGMENTER") is not None:
        return ModelState(config["SEGMENTER"], None)
    started = time.perf_counter()
    try:
        segmenter = load_segmenter(config["MODEL_DIR"])
    except ModelLoadError as exc:
        log.error("model not loaded: %s", exc)
        return ModelState(None, str(exc))
    log.info("model %s %s loaded in %.1f s", segmenter.name, segmenter.version, time.perf_counter() - started)
    return ModelState(segmenter, None)


def model_state() -> ModelState:
    return current_app.extensions[EXTENSION_KEY]
