"""``POST /`` (JSON, HTML, FHIR, DICOM SR or the PDF report by negotiation), ``/health``, ``/openapi.json``, ``/docs``
and ``/model``."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

import fetalhc
from fetalhc.web.answer import answer_upload
from fetalhc.web.api_error import ApiError
from fetalhc.web.config import app_settings
from fetalhc.web.model_state import model_state
from fetalhc.web.exports import fhir_response, sr_response
from fetalhc.web.negotiation import FHIR, HTML, JSON, NOT_ACCEPTABLE, PDF, answer_type, wants_json
from fetalhc.web.openapi import openapi_document
from fetalhc.web.page import render_index
from fetalhc.web.report import exam_label, pdf_response
from fetalhc.web.security import check_measure_client
from fetalhc.web.uploads import parse_measure_request

bp = Blueprint("api", __name__)
bp.before_request(check_measure_client)

NOT_FOR_DIAGNOSIS = "Research use only, not a medical device: not for diagnostic use."
# The vendored Swagger UI that renders /docs (static/swagger-ui/README.md says where it comes from).
SWAGGER_UI_VERSION = "5.35.0"
MODEL_UNAVAILABLE = ("The measurement model is not loaded on this server, so no image can be measured. "
                     "Try again later or ask the administrator to check /health.")


def format_uptime(seconds: float) -> str:
    """``"2d 14h 30m"``; days and hours only once they are reached."""
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{days}d"] if days else []) + ([f"{hours}h"] if days or hours else []) + [f"{minutes}m"]
    return " ".join(parts)


@bp.post("/")
def measure():
    kind = answer_type()
    if kind is None:
        raise ApiError(406, "not_acceptable", NOT_ACCEPTABLE)
    predictor = model_state().predictor
    if predictor is None:
        raise ApiError(503, "model_unavailable", MODEL_UNAVAILABLE)
    req = parse_measure_request(request.form, request.files)
    label = exam_label(request.form) if kind == PDF else None
    # The page without JavaScript and the PDF report always show the drawn result; API clients ask for it.
    answer = answer_upload(req, predictor, app_settings().max_pixels,
                           with_overlay=req.overlay and kind == JSON or kind in (HTML, PDF))
    if kind == JSON:
        return jsonify(answer.to_json())
    if kind == HTML:
        return render_index(result=answer.to_json())
    if kind == FHIR:
        return fhir_response(answer, request.form)
    if kind == PDF:
        return pdf_response(answer, label)
    return sr_response(answer, req.image)


@bp.get("/health")
def health():
    state = model_state()
    predictor = state.predictor
    body = {"status": "healthy" if predictor else "unhealthy",
            "model_loaded": predictor is not None,
            "version": fetalhc.__version__,
            "uptime": format_uptime(state.uptime_s),
            "uptime_s": round(state.uptime_s, 1),
            "model": None if predictor is None else
            {"name": predictor.name, "version": predictor.version, "runtime": predictor.segmenter.runtime}}
    if predictor is None:
        body["reason"] = state.error
        return jsonify(body), 503
    return jsonify(body)


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/docs")
def docs():
    """The OpenAPI description as a page people can read, under its own CSP (see security.py)."""
    return render_template("docs.html", swagger_ui_version=SWAGGER_UI_VERSION)


@bp.get("/model")
def model_info():
    predictor = model_state().predictor
    if predictor is None:
        raise ApiError(503, "model_unavailable", MODEL_UNAVAILABLE)
    card = predictor.segmenter.card
    if wants_json():
        return jsonify(status="success", model={"name": predictor.name, "version": predictor.version},
                       card=card, notice=NOT_FOR_DIAGNOSIS)
    return render_template("model.html", card=card, notice=NOT_FOR_DIAGNOSIS)
