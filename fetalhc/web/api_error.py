"""The one exception for requests that cannot be answered with a measurement."""
from __future__ import annotations


class ApiError(Exception):
    """Answered as ``{"status": "error", "error": code, "message": message}`` with ``status``.

    ``message`` tells the user what to do; it never quotes the uploaded data.
    """

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
