"""What a request is answered with: JSON, the page, a FHIR Bundle or a DICOM SR.

``POST /`` follows the ``Accept`` header's preference, with ``format=`` (query string or form
field) as an override:

* ``application/json``, ``*/*`` or no header: JSON (what curl and most HTTP clients send);
* ``text/html`` preferred: the page (every browser sends it first);
* ``application/fhir+json``: the FHIR R4 Bundle; ``application/dicom``: the DICOM SR;
* ``application/pdf``: the PDF report (fetalhc/report/pdf.py);
* anything else (``application/xml``, ``image/png``): 406 with the supported types.

Among types of equal quality the client's order decides. A body that cannot be read (too
large) has no form fields: then only the header and the query string count.

Errors follow the header only: a client whose ``Accept`` prefers JSON over HTML (or sends
none) always gets JSON errors, whatever it asked the answer to be.
"""
from __future__ import annotations

from flask import g, request
from werkzeug.exceptions import HTTPException

JSON, HTML, FHIR, SR, PDF = "json", "html", "fhir", "sr", "pdf"
# In order of preference for a wildcard: JSON first.
MEDIA_TYPES = {JSON: "application/json", HTML: "text/html", FHIR: "application/fhir+json", SR: "application/dicom",
               PDF: "application/pdf"}
NOT_ACCEPTABLE = ("This server answers POST / with application/json (format=json), text/html (format=html), "
                  "application/fhir+json (format=fhir), application/dicom (format=sr, for DICOM uploads) or "
                  "application/pdf (format=pdf, the report).")


def format_field() -> str | None:
    """``format`` from the query string, else (``POST``) the form; None when absent or empty."""
    value = request.args.get("format")
    if value is None and request.method == "POST":
        try:
            value = request.form.get("format")
        except HTTPException:  # 413 and friends: the body is never read
            value = None
    value = (value or "").strip().lower()
    return value or None


def _client_types(header: str) -> tuple[list[str], set[str]]:
    """The media ranges the client accepts, best first (stable among equal qualities), and
    the ones it refuses (``q=0``)."""
    accepted, refused = [], set()
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in fields[1:]:
            if param.lower().startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality > 0:
            accepted.append((media, quality))
        else:
            refused.add(media)
    accepted.sort(key=lambda item: -item[1])
    return [media for media, _ in accepted], refused


def _matches(offer: str, media_range: str) -> bool:
    if media_range in ("*/*", "*"):
        return True
    kind, _, sub = media_range.partition("/")
    return sub == "*" and offer.startswith(kind + "/") or offer == media_range


def by_accept(offers: tuple[str, ...]) -> str | None:
    """The first of ``offers`` (names of :data:`MEDIA_TYPES`) that the Accept header prefers;
    the first offer without a header; None when it accepts none of them."""
    header = request.headers.get("Accept", "").strip()
    if not header:
        return offers[0]
    accepted, refused = _client_types(header)
    for media_range in accepted:
        for offer in offers:
            if MEDIA_TYPES[offer] not in refused and _matches(MEDIA_TYPES[offer], media_range):
                return offer
    return None


def answer_type() -> str | None:
    """What ``POST /`` answers: one of JSON, HTML, FHIR, SR, PDF; None means 406."""
    if "answer_type" not in g:
        fmt = format_field()
        g.answer_type = (fmt if fmt in MEDIA_TYPES else None) if fmt else by_accept(tuple(MEDIA_TYPES))
    return g.answer_type


def prefers_html() -> bool:
    """True for browsers: the Accept header prefers HTML to JSON (``format=json`` and ``format=html``
    decide themselves). Decides the form of errors, and which posts are checked for CSRF."""
    fmt = format_field()
    if fmt in (JSON, HTML):
        return fmt == HTML
    return by_accept((JSON, HTML)) == HTML


def wants_json() -> bool:
    """For pages that exist as HTML and JSON (``/model``): JSON unless the client prefers HTML."""
    return not prefers_html()
