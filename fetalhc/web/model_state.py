"""The measurement model of one app: loaded once at start-up, or the reason it could not be."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from flask import current_app

from fetalhc.model.loader import ModelLoadError
from fetalhc.predictor import HeadPredictor, load_predictor
from fetalhc.settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "fetalhc_model"


@dataclass(frozen=True)
class ModelState:
    predictor: HeadPredictor | None
    error: str | None            # why the model is missing; None when loaded
    started: float = field(default_factory=time.monotonic)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started


def load_model_state(settings: Settings, predictor: HeadPredictor | None = None) -> ModelState:
    """``predictor`` (already loaded), else the model of ``settings.model_dir``.

    Loading runs one prediction to check the model's signature; that prediction also traces
    the serving function, so the first upload is as fast as the others. A model that cannot
    be loaded leaves the app running, answering 503 until it is fixed.
    """
    if predictor is not None:
        return ModelState(predictor, None)
    started = time.perf_counter()
    try:
        predictor = load_predictor(settings)
    except ModelLoadError as exc:
        log.error("model not loaded: %s", exc)
        return ModelState(None, str(exc))
    log.info("model %s %s loaded in %.1f s", predictor.name, predictor.version, time.perf_counter() - started)
    return ModelState(predictor, None)


def model_state() -> ModelState:
    return current_app.extensions[EXTENSION_KEY]
