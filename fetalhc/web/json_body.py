"""The JSON object body of ``POST /ellipse`` and ``POST /csv``: read up to a bound, never beyond it."""
from __future__ import annotations

import json

from flask import request

from fetalhc.web.api_error import ApiError


def json_object(max_bytes: int, fields: str) -> dict:
    """The request's JSON object; ``fields`` names what it should hold, for the error's message.

    The body is read at most ``max_bytes`` + 1 bytes far: a larger one is refused before it is parsed,
    and a bound this low also keeps a deeply nested body small."""
    not_json = f"Send a JSON object with {fields} (Content-Type: application/json); see /openapi.json."
    if request.mimetype != "application/json":
        raise ApiError(400, "invalid_json", not_json)
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "form_too_large", f"The JSON body is larger than {max_bytes // 1000} kB. "
                                              "Send only the documented fields (see /openapi.json).")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", not_json)
    return body
