"""Every error as JSON ``{"status": "error", "error": code, "message": what to do, "request_id": id}``
or, for browsers (their Accept header prefers HTML), as a page.

Anticipated failures raise :class:`ApiError`; Werkzeug's HTTP errors (413 from
``MAX_CONTENT_LENGTH``, 429 from the rate limiter, 404, 405) and flask-wtf's CSRF error get
the same treatment. The catch-all for anything else logs only the exception's type and
where it was raised, with the request id: an exception's text may quote what was uploaded.
"""
from __future__ import annotations

import logging
import traceback

from flask import Blueprint, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from fetalhc.web.api_error import ApiError
from fetalhc.web.negotiation import prefers_html
from fetalhc.web.page import render_index
from fetalhc.web.uploads import FormFieldTooLarge, FormPartsExceeded, upload_too_large

log = logging.getLogger(__name__)

bp = Blueprint("errors", __name__)


# Codes and messages for Werkzeug's HTTP errors that reach a client; others use the status name.
_HTTP_ERRORS = {
    404: ("not_found", "There is nothing at this address. The API is POST / and GET /health; "
                       "see /openapi.json."),
    405: ("method_not_allowed", "This address does not accept this method; see /openapi.json."),
}


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    """JSON for API clients; for browsers the form page (for ``POST /``) or the error page."""
    if not prefers_html():
        return jsonify(status="error", error=code, message=message, request_id=g.get("request_id")), status
    if request.endpoint == "api.measure":
        return render_index(error=message, status=status)
    return render_template("error.html", status=status, message=message), status


@bp.app_errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.code, exc.message)


@bp.app_errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return error_response(400, "csrf_failed", "The form has expired or did not come from this site's "
                          "page. Reload the page and submit the image again.")


@bp.app_errorhandler(413)
def too_large(exc: HTTPException):
    """The message names the limit that was exceeded: the body, the number of fields or one field."""
    if isinstance(exc, (FormPartsExceeded, FormFieldTooLarge)):
        return error_response(413, "form_too_large", f"{exc.description} Send the image with the documented "
                              "fields only (see /openapi.json) and retry.")
    limit = request.max_content_length  # the app's MAX_CONTENT_LENGTH; POST /batch sets its own
    length = request.content_length
    if length is not None and length <= limit:
        # The body is within its limit, so Werkzeug stopped at one field's size.
        return error_response(413, "form_too_large", f"{FormFieldTooLarge.description} Send the image with "
                              "the documented fields only (see /openapi.json) and retry.")
    return error_response(413, "file_too_large", upload_too_large(limit))


@bp.app_errorhandler(429)
def _rate_limited(exc: HTTPException):
    return error_response(429, "rate_limited", f"Too many requests (limit {exc.description}). "
                          "Wait a minute and retry.")


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code, message = _HTTP_ERRORS.get(
        exc.code, ((exc.name or "error").lower().replace(" ", "_"), exc.description or ""))
    response, status = error_response(exc.code or 500, code, message)
    if isinstance(response, Response) and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response, status


@bp.app_errorhandler(Exception)
def _unexpected(exc: Exception):
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f"{frame.filename}:{frame.lineno} in {frame.name}" if frame else "unknown location"
    log.error("unhandled %s at %s request_id=%s", type(exc).__name__, where, g.get("request_id"))
    return error_response(500, "internal_error", "The server failed on this request. Retry; if it "
                          f"fails again, report request id {g.get('request_id')}.")
