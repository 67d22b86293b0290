"""The fetalhc web app: an upload page and a JSON API on the same ``POST /``.

``create_app`` builds one app: settings from the environment and the given mapping
(fetalhc/web/config.py), the model loaded once, then one blueprint per concern: ``page``
(the HTML form), ``api`` (measurement, health, OpenAPI, model card) and ``errors``.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from fetalhc.paths import PROJECT_ROOT
from fetalhc.web import api, errors, page
from fetalhc.web.config import build_config
from fetalhc.web.model_state import EXTENSION_KEY, load_model_state
from fetalhc.web.requestlog import init_request_log
from fetalhc.web.security import init_security
from fetalhc.web.uploads import InMemoryRequest

TEMPLATE_DIR: Path = PROJECT_ROOT / "templates"
STATIC_DIR: Path = PROJECT_ROOT / "static"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A configured app. ``config`` overrides the ``FETALHC_*`` environment; it may hold
    ``SEGMENTER``, an already loaded model, instead of loading ``MODEL_DIR``."""
    app = Flask(__name__, template_folder=str(TEMPLATE_DIR), static_folder=str(STATIC_DIR))
    app.config.from_mapping(build_config(config))
    app.request_class = InMemoryRequest
    app.json.sort_keys = False  # keep the documented field order  # type: ignore[attr-defined]
    init_request_log(app)
    init_security(app)
    app.extensions[EXTENSION_KEY] = load_model_state(app.config)
    app.register_blueprint(page.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(errors.bp)
    return app
