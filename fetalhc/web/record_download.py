"""``POST /csv``: a result record, sent back as ``POST /`` or ``POST /ellipse`` answered it, as a CSV
file (the header and its one row, :mod:`fetalhc.record_csv`). The page's "Result CSV" is made here,
so the page holds no copy of the flat form and an edited record's CSV has its ``automatic.*`` columns.

It decodes no image and measures nothing: like ``GET /chart.svg`` it needs no API key (the answer
holds only what was sent), and it checks the record's shape, not its numbers.
"""
from __future__ import annotations

from flask import Blueprint, Response
from pydantic import ValidationError

from fetalhc.record import MeasurementAnswer
from fetalhc.record_csv import csv_text
from fetalhc.web.api_error import ApiError
from fetalhc.web.json_body import json_object

bp = Blueprint("record_download", __name__)

# A record is a few kB of JSON; an answer's overlay image, which no CSV holds, is left out of the body.
MAX_BODY_BYTES = 64_000
FILE_NAME = "fetalhc-result.csv"


@bp.post("/csv")
def record_csv():
    body = json_object(MAX_BODY_BYTES, "the result record, as POST / or POST /ellipse answered it, "
                                       "without overlay_png_base64")
    try:
        record = MeasurementAnswer.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]  # its message describes the expected value and never quotes the sent one
        where = ".".join(str(part) for part in error["loc"])
        raise ApiError(400, "invalid_field", f"This is not a result record: {where}: {error['msg']}. Send the "
                                             "JSON as POST / or POST /ellipse answered it (see /openapi.json).") from None
    return Response(csv_text(record), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{FILE_NAME}"'})
