"""What the server writes outside the app's own answers: one escaped line per log record, and
gunicorn's own error answers in the app's JSON shape.

* :class:`OneLine` makes every log record one line: its message with every character outside
  printable ASCII escaped (a value from a request or a file can never start a new line), and
  no traceback (an exception's type is in the message where one is logged at all).
* :func:`gunicorn_error` replaces gunicorn's HTML page for a request it refuses itself (a bad
  request line 400, a URI above 4094 bytes 414, too many or too long header fields 431) with
  the app's JSON error body, the security headers and a request id. It never repeats what the
  client sent.
"""
from __future__ import annotations

import json
import logging
import uuid

from fetalhc.web.security import CONTENT_SECURITY_POLICY

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not (message.isascii() and message.isprintable()):
            message = message.encode("unicode_escape").decode("ascii")
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def install_one_line_logs(*loggers: logging.Logger) -> None:
    """Add :class:`OneLine` to every handler of ``loggers`` (default: the root logger)."""
    for logger in loggers or (logging.getLogger(),):
        for handler in logger.handlers:
            if not any(isinstance(f, OneLine) for f in handler.filters):
                handler.addFilter(OneLine())


_CODES = {400: "bad_request", 403: "forbidden", 414: "uri_too_long", 417: "expectation_failed",
          431: "headers_too_large"}
_MESSAGES = {
    414: "The address is longer than the server's limit of 4094 bytes. The API is POST / and GET /health; "
         "see /openapi.json.",
    431: "The request has more header fields than the server's limit of 100, or one longer than 8190 bytes. "
         "Send the documented headers only and retry.",
}


def gunicorn_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error`` (installed by gunicorn.conf.py)."""
    from gunicorn.util import write_nonblock

    request_id = uuid.uuid4().hex
    body = json.dumps({
        "status": "error", "error": _CODES.get(status_int, "bad_request"),
        "message": _MESSAGES.get(status_int, "The server could not read this HTTP request: it is malformed. "
                                             "Check the client and retry."),
        "request_id": request_id}).encode()
    reason = reason if reason.isascii() and reason.isprintable() else "Bad Request"
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\nCache-Control: no-store\r\n"
            f"Content-Security-Policy: {CONTENT_SECURITY_POLICY}\r\nX-Content-Type-Options: nosniff\r\n"
            "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)
    logging.getLogger(__name__).info("request_id=%s refused by gunicorn: status=%d", request_id, status_int)
