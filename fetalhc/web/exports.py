"""``POST /`` answered as a FHIR Bundle (``format=fhir``) or a DICOM SR (``format=sr``).

Both come from the same :class:`~fetalhc.record.MeasurementAnswer` as the JSON answer; only
the SR reads the upload again, in memory, for the source's UIDs and patient/study modules.
"""
from __future__ import annotations

import json
import re

from flask import Response
from werkzeug.datastructures import ImmutableMultiDict

from fetalhc.exports import ExportError
from fetalhc.exports.fhir import fhir_bundle
from fetalhc.exports.sr import SR_MEDIA_TYPE, structured_report
from fetalhc.record import MeasurementAnswer
from fetalhc.web.api_error import ApiError

FHIR_MEDIA_TYPE = "application/fhir+json"
# A relative FHIR reference such as Patient/123: the only subject data a Bundle may hold.
SUBJECT = re.compile(r"(Patient|Group)/[A-Za-z0-9\-.]{1,64}")


def _flag(form: ImmutableMultiDict, field: str) -> bool:
    raw = form.get(field, "").strip()
    if raw not in ("", "0", "1"):
        raise ApiError(400, "invalid_field", f"The field '{field}' must be 1 or 0; correct it or leave it empty.")
    return raw == "1"


def _export_error(exc: ExportError) -> ApiError:
    return ApiError(422, exc.code, exc.message)


def fhir_response(answer: MeasurementAnswer, form: ImmutableMultiDict) -> Response:
    """The Bundle; form fields ``accepted=1`` (status final) and ``subject`` (e.g. ``Patient/123``)."""
    subject = form.get("subject", "").strip() or None
    if subject is not None and not SUBJECT.fullmatch(subject):
        raise ApiError(400, "invalid_field", "The field 'subject' must be a FHIR reference such as "
                                             "'Patient/123'; correct it or leave it empty.")
    try:
        bundle = fhir_bundle(answer, accepted=_flag(form, "accepted"), subject=subject)
    except ExportError as exc:
        raise _export_error(exc) from None
    return Response(json.dumps(bundle), mimetype=FHIR_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="fetalhc-fhir.json"'})


def sr_response(answer: MeasurementAnswer, upload: bytes) -> Response:
    try:
        body = structured_report(answer, upload)
    except ExportError as exc:
        raise _export_error(exc) from None
    return Response(body, mimetype=SR_MEDIA_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="fetalhc-sr.dcm"'})
