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

page = Blueprint("page", __name__)

_SPACING_SOURCES = {"form": "entered", "dicom": "from the DICOM file"}


def _length(body: dict, key: str) -> str:
    mm = body[f"{key}_mm"]
    return f"{mm:.1f} mm" if mm is not None else f"{body[f'{key}_px']:.1f} px"


def result_rows(body: dict) -> list[tuple[str, str]]:
    """(label, value) rows shown under the head circumference."""
    rows = [("BPD", _length(body, "bpd")), ("OFD", _length(body, "ofd")),
            ("Cephalic index", f"{body['cephalic_index']:.1f}")]
    ga = body["gestational_age"]
    if ga is None:
        rows.append(("Gestational age", "needs the pixel size"))
    else:
        h, ig = ga["hadlock"], ga["intergrowth21"]
        rows.append(("GA (Hadlock)", f"{h['ga_text']} (±2 SD {h['low_text']} to {h['high_text']})"
                     if h["ga_weeks"] is not None else h["reason"]))
        rows.append(("GA (INTERGROWTH-21st)", ig["ga_text"] or ig["reason"]))
    c = body["centile"]
    if c is not None:
        rows.append((f"HC at {c['ga_text']}", f"z {c['z']:+.2f}, centile {c['centile']:.1f} ({c['classification']})"
                     if c["z"] is not None else c["reason"]))
    if body["pixel_size_mm"] is None:
        rows.append(("Pixel size", "not given"))
    else:
        source = _SPACING_SOURCES.get(body["pixel_size_source"], body["pixel_size_source"])
        rows.append(("Pixel size", f"{body['pixel_size_mm']:g} mm/pixel ({source})"))
    rows.append(("Processing time", body["processing_time"]))
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


@page.app_context_processor
def _site_context() -> dict:
    """What the layout of every page shows: the app's and the model's versions."""
    return {"version": fetalhc.__version__, "model": model_state().segmenter}


@page.get("/")
def index():
    return render_index()
