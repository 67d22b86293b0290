"""The HTML page: the upload form, and the result rendered by the server for browsers without JavaScript.

With JavaScript, static/app.js posts the form for JSON and renders the same rows itself
(``resultRows`` there mirrors :func:`result_rows` here).
"""
from __future__ import annotations

import json
from urllib.parse import quote

from flask import Blueprint, current_app, render_template

import fetalhc
from fetalhc.web.model_state import model_state
from fetalhc.web.uploads import GA_WEEKS_RANGE, PIXEL_SIZE_MM_RANGE

bp = Blueprint("page", __name__)

_SPACING_SOURCES = {"form": "entered", "dicom": "from the DICOM file"}


def _length(body: dict, key: str) -> str:
    mm = body[f"{key}_mm"]
    return f"{mm:.1f} mm" if mm is not None else f"{body[f'{key}_px']:.1f} px"


def _value_or_reason(label: str, value: str | None, reason: str | None) -> tuple[str, str, bool]:
    return (label, value, False) if value is not None else (label, reason or "", True)


def result_rows(body: dict) -> list[tuple[str, str, bool]]:
    """(label, value, is_note) rows shown under the head circumference; a note says why a value is missing."""
    rows = [("BPD", _length(body, "bpd"), False), ("OFD", _length(body, "ofd"), False),
            ("Cephalic index", f"{body['cephalic_index']:.1f}", False)]
    ga = body["gestational_age"]
    if ga is None:
        rows.append(("Gestational age", "needs the pixel size", True))
    else:
        h, ig = ga["hadlock"], ga["intergrowth21"]
        band = f"{h['ga_text']} (±2 SD {h['low_text']} to {h['high_text']})" if h["ga_weeks"] is not None else None
        rows.append(_value_or_reason("GA (Hadlock)", band, h["reason"]))
        rows.append(_value_or_reason("GA (INTERGROWTH-21st)", ig["ga_text"], ig["reason"]))
    c = body["centile"]
    if c is not None:
        place = f"z {c['z']:+.2f}, centile {c['centile']:.1f} ({c['classification']})" if c["z"] is not None else None
        rows.append(_value_or_reason(f"HC at {c['ga_text']}", place, c["reason"]))
    spacing = None
    if body["pixel_size_mm"] is not None:
        source = _SPACING_SOURCES.get(body["pixel_size_source"], body["pixel_size_source"])
        spacing = f"{body['pixel_size_mm']:g} mm/pixel ({source})"
    rows.append(_value_or_reason("Pixel size", spacing, "not given"))
    rows.append(("Processing time", body["processing_time"], False))
    return rows


def _json_download(body: dict) -> str:
    result = {k: v for k, v in body.items() if k != "overlay_png_base64"}
    return "data:application/json;charset=utf-8," + quote(json.dumps(result, indent=2))


def render_index(result: dict | None = None, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The form page, with a result or an error message when given."""
    html = render_template(
        "index.html", result=result, error=error, model_error=model_state().error,
        rows=result_rows(result) if result else [], json_href=_json_download(result) if result else None,
        pixel_size_range=PIXEL_SIZE_MM_RANGE, ga_range=GA_WEEKS_RANGE,
        max_upload_mb=f"{current_app.config['MAX_CONTENT_LENGTH'] / (1024 * 1024):g}")
    return html, status


@bp.app_context_processor
def _site_context() -> dict:
    """What the layout of every page shows: the app's and the model's versions."""
    return {"version": fetalhc.__version__, "model": model_state().segmenter}


@bp.get("/")
def index():
    return render_index()
