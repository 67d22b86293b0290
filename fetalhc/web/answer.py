"""One upload to the answer of ``POST /``: decode, measure, and add what the transport adds
(the request id, the overlay when asked), with every failure as an :class:`ApiError`."""
from __future__ import annotations

import base64
import logging
import os
import threading
import time

from flask import g

from fetalhc.imaging import ImageLoadError, LoadedImage
from fetalhc.imaging.sandbox import SandboxDecoder
from fetalhc.measurement import NoHeadFoundError
from fetalhc.overlay import draw_overlay, encode_png
from fetalhc.predictor import HeadPredictor, InvalidParameterError
from fetalhc.record import MeasurementAnswer
from fetalhc.settings import Settings
from fetalhc.web.api_error import ApiError
from fetalhc.web.config import app_settings
from fetalhc.web.uploads import MeasureRequest

log = logging.getLogger(__name__)

# One decoding sandbox per worker process (its own pid: a forked copy never shares the parent's
# pipe), started on the first upload. It decodes one upload at a time; the others wait on it.
_SANDBOXES: dict[tuple[int, int, float], SandboxDecoder] = {}
_SANDBOXES_LOCK = threading.Lock()


def sandbox_for(settings: Settings) -> SandboxDecoder:
    """This worker's sandbox for ``settings`` (gunicorn.conf.py starts it when the worker starts)."""
    key = (os.getpid(), settings.decode_memory_mb, settings.decode_timeout_s)
    with _SANDBOXES_LOCK:
        sandbox = _SANDBOXES.get(key)
        if sandbox is None:
            sandbox = _SANDBOXES[key] = SandboxDecoder(settings.decode_memory_mb, settings.decode_timeout_s)
    return sandbox


def decode_upload(data: bytes, frame: int, max_pixels: int) -> LoadedImage:
    """The upload decoded in this worker's sandbox, within the configured memory and time."""
    return sandbox_for(app_settings()).decode(data, frame, max_pixels)

NO_HEAD_MESSAGE = ("No fetal head was found in this image. Upload a transthalamic or "
                   "transventricular plane of the fetal head with the whole skull in view.")


def answer_upload(req: MeasureRequest, predictor: HeadPredictor, max_pixels: int, with_overlay: bool) -> MeasurementAnswer:
    """The answer to one upload; its time covers decoding as well as the measurement."""
    started = time.perf_counter()
    try:
        image = decode_upload(req.image, req.frame, max_pixels)
    except ImageLoadError as exc:
        log.info("request_id=%s image rejected: %s", g.request_id, exc.code)
        if exc.code == "bad_frame":
            raise ApiError(400, "invalid_frame", f"The field 'frame' is out of range. {exc.message}") from None
        if exc.code == "not_ultrasound":
            raise ApiError(422, "not_ultrasound", exc.message) from None
        raise ApiError(415, "unsupported_image", exc.message) from None
    try:
        measurement = predictor.measure(image, req.pixel_size_mm, req.ga_weeks, started=started)
        if req.ellipse is not None:  # the automatic fit still runs: it is reported beside the edited one
            measurement = predictor.measure_placed(req.ellipse, image, req.pixel_size_mm, req.ga_weeks,
                                                   automatic=measurement.biometry, started=started)
    except NoHeadFoundError:
        log.info("request_id=%s no head found in %s %dx%d", g.request_id, image.format, image.width, image.height)
        raise ApiError(422, "no_head_found", NO_HEAD_MESSAGE) from None
    except InvalidParameterError as exc:
        raise ApiError(400, "invalid_field", exc.message) from None
    overlay = None
    if with_overlay:
        overlay = base64.b64encode(encode_png(draw_overlay(image.pixels, measurement.biometry))).decode("ascii")
    answer = predictor.record(measurement, request_id=g.request_id, overlay_png_base64=overlay, cls=MeasurementAnswer)
    log.info("request_id=%s measured %s %dx%d frame=%d calibrated=%s verdict=%s ms=%.0f", g.request_id,
             image.format, image.width, image.height, image.frame, answer.calibrated,
             answer.image_quality, 1000.0 * measurement.seconds)
    return answer
