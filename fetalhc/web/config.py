"""The app's settings: the ``FETALHC_*`` environment, then the mapping given to ``create_app``.

Only the variables listed here are read, so no environment variable can switch on Flask's
debug mode or change a setting that is not documented.
"""
from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from typing import Any

from fetalhc.paths import DEFAULT_MODEL_DIR

DEFAULT_MAX_UPLOAD_MB = 32
# The image loader's own default: a 40-megapixel frame is far above any ultrasound export.
DEFAULT_MAX_PIXELS = 40_000_000

# Security rules of the README's "Security and privacy" section; they win over the environment and the mapping.
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


class ConfigError(ValueError):
    """An environment variable holds a value the app cannot start with."""


def _number(environ: Mapping[str, str], name: str, default: float, kind: type, minimum: float) -> Any:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Flask config keys from the documented environment variables (defaults where unset)."""
    max_upload_mb = _number(environ, "FETALHC_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB, float, 0.001)
    return {
        # Random per process when unset; gunicorn.conf.py sets one shared by a server's workers.
        "SECRET_KEY": environ.get("FETALHC_SECRET_KEY") or secrets.token_hex(32),
        "MODEL_DIR": environ.get("FETALHC_MODEL_DIR") or str(DEFAULT_MODEL_DIR),
        "MAX_CONTENT_LENGTH": int(max_upload_mb * 1024 * 1024),
        "MAX_PIXELS": _number(environ, "FETALHC_MAX_PIXELS", DEFAULT_MAX_PIXELS, int, 256),
        "API_KEY": environ.get("FETALHC_API_KEY") or None,
        "RATE_LIMIT": environ.get("FETALHC_RATE_LIMIT") or None,
        # Reverse proxies in front of the app (App Runner: 1) whose X-Forwarded-For/-Proto are
        # trusted; the rate limit needs each client's own address, not the proxy's.
        "PROXY_COUNT": _number(environ, "FETALHC_PROXY_COUNT", 0, int, 0),
    }


def build_config(overrides: Mapping[str, Any] | None = None,
                 environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Environment settings, updated by ``overrides``, then the fixed security settings."""
    config = settings_from_env(environ)
    config.update(overrides or {})
    config.update(FIXED_SETTINGS)
    return config
