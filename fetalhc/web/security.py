"""Response headers, CSRF for the form, the optional API key and the optional rate limit.

Who is checked how on ``POST /`` (and the same on ``POST /batch`` and ``POST /ellipse``, whose JSON
body a cross-site form cannot send: it needs ``Content-Type: application/json``):

* A browser post (it carries a CSRF token, or its Accept header prefers HTML) must hold a valid
  CSRF token, bound to the session cookie set by ``GET /``.
* An API request (prefers JSON, FHIR or DICOM, or sends no Accept; carries no CSRF token) is
  CSRF-exempt: it uses no cookie (nothing is stored, no session is read), and its key is a
  custom header that a cross-site page cannot set without a CORS preflight, which this app
  grants only to the origins of FETALHC_CORS_ORIGINS.
* When ``FETALHC_API_KEY`` is set, both must present the key: an API request in the
  ``X-API-Key`` header, a browser through the page, which asks for the key once and keeps a
  MAC of it in the signed session cookie. The CSRF token is never a substitute for the key:
  anyone can load the page and read one. The session only counts for browser posts, which
  are CSRF-checked, so another site cannot use a visitor's session.

Keys are compared in constant time (digests of equal length).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Flask, Response, g, request, session
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
# /docs (the vendored Swagger UI): its script and stylesheet from this origin, the stylesheet's
# data: icons, /openapi.json and "Try it out" by fetch; no blob: images and no form posts.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
CSRF_HEADER = "X-CSRFToken"
API_KEY_HEADER = "X-API-Key"
SESSION_KEY = "api_key_mac"

csrf = CSRFProtect()


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = (DOCS_CONTENT_SECURITY_POLICY if request.endpoint == "api.docs"
                                          else CONTENT_SECURITY_POLICY)
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


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def key_matches(presented: str | None) -> bool:
    """Whether ``presented`` is the configured key (True when none is configured), in constant time."""
    key = app_settings().api_key
    if not key:
        return True
    return hmac.compare_digest(_digest(presented or ""), _digest(key))


def _session_mac() -> str:
    """What the session holds once the page was given the key: a MAC of the key, so that a new key
    ends every session made with the old one, and the cookie never holds the key itself."""
    settings = app_settings()
    return hmac.new(settings.secret_key.encode(), _digest(settings.api_key or ""), hashlib.sha256).hexdigest()


def page_has_key() -> bool:
    """Whether this browser session may measure: no key is configured, or the page was given it."""
    if not app_settings().api_key:
        return True
    return hmac.compare_digest(str(session.get(SESSION_KEY, "")).encode(), _session_mac().encode())


def remember_key_in_session() -> None:
    session[SESSION_KEY] = _session_mac()


# What measures: an upload (POST /), several (POST /batch) or an ellipse placed by hand (POST /ellipse).
MEASURING_ENDPOINTS = ("api.measure", "batch.measure_batch", "edit.measure_ellipse")
# What decodes images: these share one count per client under FETALHC_RATE_LIMIT, one per image.
UPLOAD_ENDPOINTS = ("api.measure", "batch.measure_batch")


def _images_in_request() -> int:
    """What one upload request costs: its images (POST /batch counts them before the limiter runs)."""
    return g.get("upload_count", 1)


def check_measure_client() -> None:
    """``before_request`` of the api and edit blueprints: CSRF for browsers, and the API key for everyone."""
    if request.endpoint not in MEASURING_ENDPOINTS:
        return
    browser = is_browser_post()
    if browser:
        csrf.protect()
    if key_matches(request.headers.get(API_KEY_HEADER)) or (browser and page_has_key()):
        return
    raise ApiError(401, "unauthorized", "A valid API key is required: send it in the "
                                        f"{API_KEY_HEADER} header, or enter it on the page.")


def init_security(app: Flask, settings: Settings, separately_limited: Blueprint | None = None) -> None:
    """Headers, CSRF, the proxy fix and the rate limits; ``separately_limited`` (the ellipse editor's
    blueprint, which decodes no image) has FETALHC_ELLIPSE_RATE_LIMIT instead of the upload limit."""
    app.config["WTF_CSRF_HEADERS"] = [CSRF_HEADER]
    csrf.init_app(app)
    app.after_request(_security_headers)
    if settings.proxy_count:
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    rate, ellipse_rate = settings.rate_limit, settings.ellipse_rate_limit
    for name, value in (("FETALHC_RATE_LIMIT", rate), ("FETALHC_ELLIPSE_RATE_LIMIT", ellipse_rate)):
        try:  # a malformed limit fails at start-up, not on the first upload
            if value:
                parse_many(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is not a limit such as '60/minute'") from None
    if rate or ellipse_rate:
        # Per worker process (memory storage): the effective limit is workers x the limit.
        # Uploads count against one shared limit, image by image, so that POST / and POST /batch
        # together allow FETALHC_RATE_LIMIT images; other posts (the key form) have it per route.
        limiter = Limiter(get_remote_address, app=app, default_limits=[rate] if rate else [], storage_uri="memory://",
                          headers_enabled=True,
                          default_limits_exempt_when=lambda: (request.method != "POST"
                                                              or request.endpoint in UPLOAD_ENDPOINTS),
                          application_limits=[rate] if rate else [], application_limits_cost=_images_in_request,
                          application_limits_exempt_when=lambda: request.endpoint not in UPLOAD_ENDPOINTS)
        if separately_limited is not None:
            if ellipse_rate:
                limiter.limit(ellipse_rate, methods=["POST"])(separately_limited)
            else:
                limiter.exempt(separately_limited)
