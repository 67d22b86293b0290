"""``POST /ellipse``: the result record of an ellipse placed by hand (the page's ellipse editor, or any
client), made by the predictor's code for a fitted ellipse. It decodes no image, so the upload rate
limit does not count it; ``FETALHC_ELLIPSE_RATE_LIMIT`` is its own (fetalhc/web/security.py)."""
from __future__ import annotations

import time

from flask import Blueprint, g, jsonify

from fetalhc.predictor import InvalidParameterError
from fetalhc.record import MeasurementAnswer
from fetalhc.web.api import MODEL_UNAVAILABLE
from fetalhc.web.api_error import ApiError
from fetalhc.web.config import app_settings
from fetalhc.web.ellipse_request import parse_ellipse_request
from fetalhc.web.json_body import json_object
from fetalhc.web.model_state import model_state
from fetalhc.web.security import check_measure_client

bp = Blueprint("edit", __name__)
bp.before_request(check_measure_client)

# An ellipse request is a few hundred bytes.
MAX_BODY_BYTES = 10_000


@bp.post("/ellipse")
def measure_ellipse():
    started = time.perf_counter()
    predictor = model_state().predictor
    if predictor is None:
        raise ApiError(503, "model_unavailable", MODEL_UNAVAILABLE)
    req = parse_ellipse_request(json_object(MAX_BODY_BYTES, "'ellipse' and 'image'"), app_settings().max_pixels)
    try:
        measurement = predictor.measure_placed(req.ellipse, req.image, None, req.ga_weeks, automatic=req.automatic,
                                               started=started)
    except InvalidParameterError as exc:
        raise ApiError(400, "invalid_field", exc.message) from None
    return jsonify(predictor.record(measurement, cls=MeasurementAnswer, request_id=g.request_id).to_json())
