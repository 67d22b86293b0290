"""One upload to one JSON result: decode, analyse, optionally draw, with errors as :class:`ApiError`."""
from __future__ import annotations

import base64
import dataclasses
import logging
import threading
import time

from flask import g

from fetalhc.imaging import ImageLoadError, load_image
from fetalhc.measurement import NoHeadFoundError
from fetalhc.model.loader import Segmenter
from fetalhc.overlay import draw_overlay, encode_png
from fetalhc.pipeline import InvalidParameterError, analyse, analysis_to_dict
from fetalhc.web.api_error import ApiError
from fetalhc.web.uploads import MeasureRequest

log = logging.getLogger(__name__)

# The image loader swaps the process-wide warning filters while it decodes; one decode at a
# time keeps that safe when gunicorn runs several threads per worker. Decoding takes
# milliseconds, so the lock costs nothing next to the network.
_DECODE_LOCK = threading.Lock()

NO_HEAD_MESSAGE = ("No fetal head was found in this image. Upload a transthalamic or "
                   "transventricular plane of the fetal head with the whole skull in view.")


def measure(req: MeasureRequest, segmenter: Segmenter, max_pixels: int, with_overlay: bool) -> dict:
    """The body of a successful ``POST /`` (without ``request_id``)."""
    started = time.perf_counter()
    try:
        with _DECODE_LOCK:
            image = load_image(req.image, frame=req.frame, max_pixels=max_pixels)
    except ImageLoadError as exc:
        log.info("request_id=%s image rejected: %s", g.request_id, exc.code)
        if exc.code == "bad_frame":
            raise ApiError(400, "invalid_frame", f"The field 'frame' is out of range. {exc.message}") from None
        raise ApiError(415, "unsupported_image", exc.message) from None
    try:
        analysis = analyse(image, segmenter, req.pixel_size_mm, req.ga_weeks)
    except NoHeadFoundError:
        log.info("request_id=%s no head found in %s %dx%d", g.request_id, image.format, image.width, image.height)
        raise ApiError(422, "no_head_found", NO_HEAD_MESSAGE) from None
    except InvalidParameterError as exc:
        raise ApiError(400, "invalid_field", str(exc)) from None
    # The reported time covers decoding as well as the analysis.
    analysis = dataclasses.replace(analysis, seconds=time.perf_counter() - started)
    body = analysis_to_dict(analysis, segmenter)
    if with_overlay:
        png = encode_png(draw_overlay(image.pixels, analysis.biometry))
        body["overlay_png_base64"] = base64.b64encode(png).decode("ascii")
    log.info("request_id=%s measured %s %dx%d frame=%d calibrated=%s verdict=%s ms=%.0f", g.request_id,
             image.format, image.width, image.height, image.frame, body["calibrated"],
             body["image_quality"], 1000.0 * analysis.seconds)
    return body
