"""Response headers, CSRF for the form, the optional API key and the optional rate limit.

Who is checked how on ``POST /``:

* A browser post (it carries a CSRF token, or its Accept header prefers HTML) must hold a valid CSRF
  token, bound to the session cookie set by ``GET /``. It needs no API key: the page is the
  public face of the app.
* An API request (prefers JSON, FHIR or DICOM, or sends no Accept; carries no CSRF token) is CSRF-exempt and must send
  ``X-API-Key`` when ``FETALHC_API_KEY`` is set. CSRF abuses credentials a browser adds on
  its own (cookies); the API uses none: nothing is stored, no session is read, and the key
  is a custom header that a cross-site page cannot set without a CORS preflight, which this
  app grants only to the origins of FETALHC_CORS_ORIGINS. A cross-site form posting ``format=json`` is therefore just an
  anonymous API call, refused when a key is required.
"""
from __future__ import annotations

import hmac

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from fetalhc.settings import ConfigError, Settings
from fetalhc.web.config import app_settings
from fetalhc.web.api_error import ApiError
from fetalhc.web.negotiation import prefers_html

# Only this origin's files; images also from data: (the result overlay) and blob: (the
# preview of the chosen file, which never leaves the browser before "Measure").
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CSRF_HEADER = "X-CSRFToken"
API_KEY_HEADER = "X-API-Key"

csrf = CSRFProtect()


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    # Results and pages with a CSRF token must not be kept by browsers or proxies; the
    # static files hold nothing personal and may be cached.
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response


def is_browser_post() -> bool:
    return "csrf_token" in request.form or CSRF_HEADER in request.headers or prefers_html()


def check_measure_client() -> None:
    """``before_request`` of the api blueprint: CSRF for browsers, the API key for API clients."""
    if request.endpoint != "api.measure":
        return
    if is_browser_post():
        csrf.protect()
        return
    key = app_settings().api_key
    if key and not hmac.compare_digest(request.headers.get(API_KEY_HEADER, "").encode(), key.encode()):
        raise ApiError(401, "unauthorized", f"A valid API key is required: send it in the {API_KEY_HEADER} header.")


def init_security(app: Flask, settings: Settings) -> None:
    app.config["WTF_CSRF_HEADERS"] = [CSRF_HEADER]
    csrf.init_app(app)
    app.after_request(_security_headers)
    if settings.proxy_count:
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    rate = settings.rate_limit
    if rate:
        try:  # a malformed limit fails at start-up, not on the first upload
            parse_many(rate)
        except ValueError:
            raise ConfigError(f"FETALHC_RATE_LIMIT={rate!r} is not a limit such as '60/minute'") from None
        # Per worker process (memory storage): the effective limit is workers x the limit.
        Limiter(get_remote_address, app=app, default_limits=[rate], storage_uri="memory://",
                headers_enabled=True, default_limits_exempt_when=lambda: request.method != "POST")
