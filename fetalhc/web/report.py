"""``POST /`` answered as the PDF report (``Accept: application/pdf`` or ``format=pdf``).

The optional form field ``exam_label`` is the user's own reference for the exam: trimmed, one line,
at most :data:`EXAM_LABEL_MAX` characters, printed as typed. It is never stored or logged, and an
error about it never quotes it.
"""
from __future__ import annotations

import unicodedata

from flask import Response
from werkzeug.datastructures import ImmutableMultiDict

from fetalhc.record import MeasurementAnswer
from fetalhc.report.pdf import file_name, pdf_report, unprintable
from fetalhc.web.api_error import ApiError

PDF_MEDIA_TYPE = "application/pdf"
EXAM_LABEL_MAX = 80


def exam_label(form: ImmutableMultiDict) -> str | None:
    """The checked ``exam_label``; None when absent or blank."""
    label = form.get("exam_label", "").strip()
    if not label:
        return None
    if len(label) > EXAM_LABEL_MAX:
        raise ApiError(400, "invalid_field", f"The field 'exam_label' holds {len(label)} characters; at most "
                                             f"{EXAM_LABEL_MAX} fit on the report. Shorten it or leave it empty.")
    # Control and format characters (line breaks, tabs, bidirectional overrides) would not print as typed.
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in label):
        raise ApiError(400, "invalid_field", "The field 'exam_label' must be one line of text without tabs, line "
                                             "breaks or other control characters; correct it or leave it empty.")
    missing = unprintable(label)
    if missing:
        codes = ", ".join(f"U+{ord(c):04X}" for c in missing[:5])
        raise ApiError(400, "invalid_field", f"The report's font cannot print {len(missing)} character(s) of the "
                                             f"field 'exam_label' ({codes}); use Latin letters, digits and "
                                             "punctuation, or leave it empty.")
    return label


def pdf_response(answer: MeasurementAnswer, label: str | None) -> Response:
    return Response(pdf_report(answer, label), mimetype=PDF_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{file_name(answer)}"'})
