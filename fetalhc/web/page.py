"""The HTML page: the upload form, and the result rendered by the server for browsers without JavaScript.

With JavaScript, static/app.js posts the form for JSON and renders the answer's ``summary``
rows, the same rows this page renders (``fetalhc/record.py`` makes them).
"""
from __future__ import annotations

import json
from urllib.parse import quote

from flask import Blueprint, current_app, redirect, render_template, request, url_for

import fetalhc
from fetalhc.record import MeasurementAnswer
from fetalhc.record_csv import csv_text
from fetalhc.web.config import app_settings
from fetalhc.web.model_state import model_state
from fetalhc.web.security import csrf, key_matches, page_has_key, remember_key_in_session

bp = Blueprint("page", __name__)

# The typed fields the page shows again after a post without JavaScript (a browser never refills a
# file input), each cut to this length: a number or a label, never a whole posted field echoed back.
KEPT_FIELDS = ("pixel_size_mm", "ga_weeks", "ga_days", "frame", "exam_label")
KEPT_LENGTH = 100


def _entered_values() -> dict[str, str]:
    """What the person typed into the form just posted, by field name ('' where nothing).

    Only a form already read is used: one that could not be read (too large, too many parts)
    is not read a second time here.
    """
    # Werkzeug keeps a form it has read in the request's __dict__ (its cached property).
    form = vars(request._get_current_object()).get("form") if request.method == "POST" else None
    return {name: (form.get(name, "") if form is not None else "")[:KEPT_LENGTH] for name in KEPT_FIELDS}


def _json_download(body: dict) -> str:
    result = {k: v for k, v in body.items() if k != "overlay_png_base64"}
    return "data:application/json;charset=utf-8," + quote(json.dumps(result, indent=2))


def _csv_download(body: dict) -> str:
    # A form cannot post the record as the JSON that POST /csv takes: the page without JavaScript
    # holds the same CSV (the server's flat form of the record) in its link instead.
    return "data:text/csv;charset=utf-8," + quote(csv_text(MeasurementAnswer.model_validate(body)))


def render_index(result: dict | None = None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The form page, with a result or an error message when given; the key form while the
    server requires an API key this browser session has not given."""
    if not page_has_key():
        return render_template("key.html", error=error), status
    html = render_template(
        "index.html", result=result, error=error, model_error=model_state().error, entered=_entered_values(),
        json_href=_json_download(result) if result else None, csv_href=_csv_download(result) if result else None,
        pixel_size_range=app_settings().pixel_size_mm_range, ga_range=app_settings().ga_weeks_range,
        max_upload_mb=f"{current_app.config['MAX_CONTENT_LENGTH'] / (1024 * 1024):g}")
    return html, status


@bp.app_context_processor
def _site_context() -> dict:
    """What the layout of every page shows: the app's and the model's versions."""
    return {"version": fetalhc.__version__, "model": model_state().predictor}


@bp.get("/")
def index():
    return render_index()


@bp.post("/key")
def give_key():
    """The page's key form: a right key is remembered in the signed session cookie."""
    csrf.protect()
    if not key_matches(request.form.get("api_key", "")):
        return render_template("key.html", error="This is not the server's access key. Check it and retry."), 401
    remember_key_in_session()
    return redirect(url_for("page.index"), 303)
