"""Whether a request is answered in JSON (API clients) or HTML (browsers)."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    """True when the client asks for JSON: ``Accept: application/json`` or ``format=json``.

    ``format`` may be in the query string or, for ``POST /``, a form field. A body that
    cannot be read (too large, malformed) has no form fields: then only the ``Accept``
    header and the query string count, which is why the docs recommend the header.
    """
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return True
    if request.args.get("format") == "json":
        return True
    if request.method != "POST":
        return False
    try:
        return request.form.get("format") == "json"
    except HTTPException:  # 413 and friends: the body is never read
        return False
