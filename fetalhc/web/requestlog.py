"""A request id for every request, and one log line per request without any patient data.

The line holds the id, method, route, status, body sizes and duration. It never holds file
names, form values, DICOM fields or pixels: those may identify a patient.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger(__name__)

# A client's own id is kept when it is short and plain (safe to log and echo); else a new one is made.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


def log_safe(value: str, limit: int = 64) -> str:
    """``value`` shortened, with every character outside printable ASCII escaped (``\r`` stays two
    characters): a value from a request can never start a new log line."""
    value = value[:limit]
    if value.isascii() and value.isprintable():
        return value
    return value.encode("unicode_escape").decode("ascii")


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.request_id
    # The route's rule, not the path: /static/<path:filename> holds what the client sent (a \r in
    # it reached the log). The method is escaped: no logged value may start a new line.
    log.info("request_id=%s method=%s path=%s status=%d in_bytes=%s out_bytes=%s ms=%.1f",
             g.request_id, log_safe(request.method), request.url_rule.rule if request.url_rule else "(unrouted)",
             response.status_code, request.content_length or 0, response.content_length,
             1000.0 * (time.perf_counter() - g.started))
    return response


def init_request_log(app: Flask) -> None:
    """Register first, so every other hook (rate limit, CSRF) already has ``g.request_id``."""
    app.before_request(_start)
    app.after_request(_finish)
