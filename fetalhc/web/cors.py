"""Opt-in CORS: browser applications on the origins of ``FETALHC_CORS_ORIGINS`` may call the API.

Only the API is opened: ``POST /``, ``POST /batch``, ``POST /ellipse``, ``POST /csv``, ``GET /health``,
``GET /chart.svg`` and ``GET /openapi.json``, to exactly the listed origins (no wildcard, no
credentials: the API uses no cookies). A preflight may ask for ``X-API-Key``, ``X-Request-ID`` and
``Content-Type`` (the JSON bodies of ``/ellipse`` and ``/csv``: ``application/json`` is not a type
a browser sends without asking); answers expose ``X-Request-ID``, ``Retry-After`` and
``Content-Disposition``. An origin not listed gets no CORS header, so its browser keeps the answer from the page.
Unset, the app sends no CORS header at all.
"""
from __future__ import annotations

from flask import Flask, Response, request

from fetalhc.settings import Settings

# Path -> methods a listed origin may use.
CORS_PATHS = {"/": "POST", "/batch": "POST", "/ellipse": "POST", "/csv": "POST", "/health": "GET",
              "/chart.svg": "GET", "/openapi.json": "GET"}
ALLOWED_HEADERS = "Content-Type, X-API-Key, X-Request-ID"
EXPOSED_HEADERS = "X-Request-ID, Retry-After, Content-Disposition"
PREFLIGHT_MAX_AGE_S = 600


def init_cors(app: Flask, settings: Settings) -> None:
    allowed = frozenset(settings.cors_origins)
    if not allowed:
        return

    def add_cors_headers(response: Response) -> Response:
        methods = CORS_PATHS.get(request.path)
        if methods is None:
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin", "")
        if origin.lower() not in allowed:
            return response
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            headers["Access-Control-Allow-Methods"] = methods
            headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return response

    app.after_request(add_cors_headers)
