"""The fetalhc web app: an upload page and a JSON API on the same ``POST /``.

``create_app`` builds one app from one :class:`~fetalhc.settings.Settings` object (default:
the environment), loads the model once, then registers one blueprint per concern: ``page``
(the HTML form), ``api`` (measurement, health, OpenAPI, model card), ``edit`` (an ellipse placed by
hand), ``chart`` (the growth chart), ``record_download`` (a record as CSV) and ``errors``.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from fetalhc.predictor import HeadPredictor
from fetalhc.settings import PROJECT_ROOT, Settings
from fetalhc.web import api, batch, edit, errors, page, record_download
from fetalhc.web.chart import bp as chart_bp
from fetalhc.web.config import SETTINGS_KEY, flask_config
from fetalhc.web.cors import init_cors
from fetalhc.web.model_state import EXTENSION_KEY, load_model_state
from fetalhc.web.requestlog import init_request_log
from fetalhc.web.security import init_security
from fetalhc.web.uploads import InMemoryRequest

TEMPLATE_DIR: Path = PROJECT_ROOT / "templates"
STATIC_DIR: Path = PROJECT_ROOT / "static"


def create_app(settings: Settings | None = None, predictor: HeadPredictor | None = None) -> Flask:
    """A configured app. ``predictor``, an already loaded model, saves loading ``settings.model_dir``."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(TEMPLATE_DIR), static_folder=str(STATIC_DIR))
    app.config.from_mapping(flask_config(settings))
    app.extensions[SETTINGS_KEY] = settings
    app.request_class = InMemoryRequest
    app.json.sort_keys = False  # keep the documented field order  # type: ignore[attr-defined]
    init_request_log(app)
    init_security(app, settings, separately_limited=edit.bp)
    init_cors(app, settings)
    app.extensions[EXTENSION_KEY] = load_model_state(settings, predictor)
    app.register_blueprint(page.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(batch.bp)
    app.register_blueprint(edit.bp)
    app.register_blueprint(chart_bp)
    app.register_blueprint(record_download.bp)
    app.register_blueprint(errors.bp)
    return app
