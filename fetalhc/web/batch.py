"""``POST /batch``: several images (and zips of images) in one request, one result row each.

Each image goes the road of ``POST /`` (:func:`fetalhc.web.answer.answer_upload`: the decoding
sandbox, the pixel limit, the same predictor), so a row is the record ``POST /`` answers or the
error it gives, with the same code and message. One bad image is one error row; only the
batch's own limits (``batch_uploads``, ``zips``) and bad form fields refuse the request. Rows
are in upload order, a zip's images in name order, and carry positions, never file names.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from fetalhc.record import MeasurementAnswer
from fetalhc.record_csv import csv_columns, flat_row
from fetalhc.web.answer import answer_upload
from fetalhc.web.api import MODEL_UNAVAILABLE
from fetalhc.web.api_error import ApiError
from fetalhc.web.batch_uploads import BatchImage, batch_images, plan_batch
from fetalhc.web.config import app_settings
from fetalhc.web.errors import error_response, too_large
from fetalhc.web.model_state import model_state
from fetalhc.web.security import check_measure_client
from fetalhc.web.uploads import FormFieldTooLarge, FormPartsExceeded, MeasureRequest, calibration_and_age
from fetalhc.web.zips import BatchRefused

bp = Blueprint("batch", __name__)

# The table's columns: those of the command-line batch CSV (fetalhc.inference.batch) with positions
# instead of the file name.
POSITION_COLUMNS = ["index", "upload", "entry"]
TABLE_COLUMNS = [*POSITION_COLUMNS, "status", "error", *(c for c in csv_columns() if c != "status")]


@bp.url_value_preprocessor
def _before_anything_reads_the_body(endpoint: str | None, values: dict | None) -> None:
    """URL preprocessors run before every ``before_request`` hook: the body limit must be in place
    before the first read, and the images counted before the rate limiter charges them."""
    settings = app_settings()
    request.max_content_length = settings.batch_max_bytes
    plan_batch(settings)


bp.before_request(check_measure_client)


@bp.errorhandler(413)
def _batch_too_large(exc: HTTPException):
    length, limit = request.content_length, request.max_content_length
    if isinstance(exc, (FormPartsExceeded, FormFieldTooLarge)) or (length is not None and length <= limit):
        return too_large(exc)
    return error_response(413, "batch_too_large",
                          f"The images of this batch are larger together than the {limit / 2**20:g} MB limit of "
                          "one batch. Send fewer or smaller images per batch.")


@bp.errorhandler(429)
def _batch_rate_limited(exc: HTTPException):
    return error_response(429, "rate_limited",
                          f"Too many images (limit {exc.description}); each image of a batch counts as one upload. "
                          "Wait a minute, or send fewer images per batch, and retry.")


def _positions(index: int, image: BatchImage) -> dict[str, Any]:
    return {"index": index, "upload": image.upload, "entry": image.entry}


def _success(index: int, image: BatchImage, answer: MeasurementAnswer) -> tuple[dict, list]:
    # The batch's request id is in the answer once, not in every row.
    row = {**_positions(index, image), **answer.to_json()}
    del row["request_id"]
    flat = {**_positions(index, image), "error": "", **flat_row(answer)}
    return row, [flat[c] for c in TABLE_COLUMNS]


def _failure(index: int, image: BatchImage, exc: ApiError) -> tuple[dict, list]:
    row = {**_positions(index, image), "status": "error",
           "error": {"code": exc.code, "message": exc.message, "http_status": exc.status}}
    flat = {**_positions(index, image), "status": "error", "error": exc.message}
    return row, [flat.get(c) for c in TABLE_COLUMNS]


@bp.post("/batch")
def measure_batch():
    predictor = model_state().predictor
    if predictor is None:
        raise ApiError(503, "model_unavailable", MODEL_UNAVAILABLE)
    pixel_size_mm, ga_weeks = calibration_and_age(request.form)
    settings = app_settings()
    results, rows = [], []
    for index, image in enumerate(batch_images()):
        try:
            req = MeasureRequest(image.read(), pixel_size_mm, ga_weeks, frame=0, overlay=False)
            row, flat = _success(index, image, answer_upload(req, predictor, settings.max_pixels, with_overlay=False))
        except BatchRefused:
            raise
        except ApiError as exc:
            if exc.code == "invalid_field":  # a field of the form, wrong for every image alike
                raise
            row, flat = _failure(index, image, exc)
        results.append(row)
        rows.append(flat)
    return jsonify(status="success", results=results, table={"columns": TABLE_COLUMNS, "rows": rows},
                   request_id=g.request_id)
