"""The Flask side of the settings: what Flask and its extensions read from ``app.config``.

Everything else the web layer needs comes from the one :class:`fetalhc.settings.Settings`
object, stored on the app by ``create_app`` and read with :func:`app_settings`.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from fetalhc.settings import Settings

SETTINGS_KEY = "fetalhc_settings"

# Security rules of docs/security.md; nothing in the settings can change them (Flask's debug mode included).
FIXED_SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
    # CSRF is checked where fetalhc/web/security.py asks for it (browser form posts) only.
    "WTF_CSRF_CHECK_DEFAULT": False,
    # Referrer-Policy: no-referrer means browsers send no Referer, which flask-wtf's HTTPS
    # referrer check would reject; the token bound to a SameSite=Strict session is the check.
    "WTF_CSRF_SSL_STRICT": False,
    # The token lives as long as the browser session: a form left open for hours still works.
    "WTF_CSRF_TIME_LIMIT": None,
}


def flask_config(settings: Settings) -> dict[str, Any]:
    """``app.config`` for ``settings``: Flask's own keys, then the fixed security settings."""
    return {"SECRET_KEY": settings.secret_key, "MAX_CONTENT_LENGTH": settings.max_upload_bytes, **FIXED_SETTINGS}


def app_settings() -> Settings:
    return current_app.extensions[SETTINGS_KEY]
