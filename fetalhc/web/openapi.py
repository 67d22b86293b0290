"""The OpenAPI 3.1 description served at ``/openapi.json``; tests check the app against it."""
from __future__ import annotations

from typing import Any

import fetalhc
from fetalhc.model.loader import RUNTIMES
from fetalhc.web.uploads import GA_WEEKS_RANGE, PIXEL_SIZE_MM_RANGE

ERROR_CODES = ["missing_image", "invalid_field", "invalid_frame", "unauthorized", "csrf_failed",
               "file_too_large", "unsupported_image", "no_head_found", "rate_limited",
               "model_unavailable", "not_found", "method_not_allowed", "internal_error"]


def _t(kind: str, nullable: bool = False, **extra: Any) -> dict:
    return {"type": [kind, "null"] if nullable else kind, **extra}


def _obj(properties: dict, nullable: bool = False, optional: tuple[str, ...] = ()) -> dict:
    """A closed object: every property required unless listed in ``optional``."""
    return {"type": ["object", "null"] if nullable else "object", "properties": properties,
            "required": [k for k in properties if k not in optional], "additionalProperties": False}


_NUM_OR_NULL = _t("number", True)
_STR_OR_NULL = _t("string", True)

_HADLOCK = _obj({
    "method": _t("string", const="hadlock_1984"), "source": _t("string"), "hc_mm": _NUM_OR_NULL,
    "ga_weeks": _NUM_OR_NULL, "ga_text": _STR_OR_NULL, "sd2_weeks": _NUM_OR_NULL,
    "low_weeks": _NUM_OR_NULL, "high_weeks": _NUM_OR_NULL, "low_text": _STR_OR_NULL,
    "high_text": _STR_OR_NULL,
    "reason": _t("string", True, description="Why there is no estimate (HC outside 68-360 mm)."),
})
_INTERGROWTH_GA = _obj({
    "method": _t("string", const="intergrowth21_ga_from_hc"), "source": _t("string"), "hc_mm": _NUM_OR_NULL,
    "ga_days": _NUM_OR_NULL, "ga_weeks": _NUM_OR_NULL, "ga_text": _STR_OR_NULL,
    "reason": _t("string", True, description="Why there is no estimate (outside 14+0 to 40+0 weeks)."),
})
_CENTILE = _obj({
    "method": _t("string", const="intergrowth21_hc_standard"), "source": _t("string"), "hc_mm": _NUM_OR_NULL,
    "ga_weeks": _NUM_OR_NULL, "ga_text": _STR_OR_NULL, "z": _NUM_OR_NULL,
    "centile": _t("number", True, minimum=0, maximum=100), "mean_mm": _NUM_OR_NULL, "sd_mm": _NUM_OR_NULL,
    "classification": _STR_OR_NULL, "reason": _STR_OR_NULL,
}, nullable=True)
_CENTILE["description"] = ("HC on the INTERGROWTH-21st standard at the given gestational age; "
                           "null without ga_weeks or pixel size.")

_MEASUREMENT = _obj({
    "status": _t("string", const="success"),
    "request_id": _t("string", description="Also in the X-Request-ID header; quote it when reporting a problem."),
    "circumference": _t("string", description="HC with two decimals, in circumference_unit."),
    "circumference_unit": _t("string", enum=["mm", "px"]),
    "circumference_mm": _NUM_OR_NULL, "circumference_px": _t("number"),
    "calibrated": _t("boolean", description="False when no pixel size was given or found in the DICOM file."),
    "bpd_mm": _NUM_OR_NULL, "ofd_mm": _NUM_OR_NULL, "bpd_px": _t("number"), "ofd_px": _t("number"),
    "cephalic_index": _t("number", description="BPD / OFD x 100."),
    "ellipse": _obj({k: _t("number") for k in
                     ("center_x_px", "center_y_px", "semi_major_px", "semi_minor_px", "angle_deg")}),
    "pixel_size_mm": _NUM_OR_NULL, "pixel_size_y_mm": _NUM_OR_NULL,
    "pixel_size_source": _t("string", True, enum=["form", "dicom", None]),
    "gestational_age": _obj({"hadlock": _HADLOCK, "intergrowth21": _INTERGROWTH_GA}, nullable=True),
    "centile": _CENTILE,
    "confidence": _t("number", minimum=0, maximum=1),
    "image_quality": _t("string", enum=["Good", "Fair", "Poor"]),
    "quality_flags": {"type": "array", "items": _t("string")},
    "quality_signals": _obj({
        "ellipse_iou": _t("number"), "mean_probability": _t("number"), "edge_sharpness": _t("number"),
        "clipped_fraction": _t("number"), "plausible_size": _t("boolean", True), "evidence": _t("number"),
        "confidence": _t("number"),
        "verdict": _t("string", enum=["Good", "Fair", "Poor"]), "flags": {"type": "array", "items": _t("string")},
    }),
    "processing_time": _t("string", examples=["0.41s"]),
    "processing_time_ms": _t("number", description="Decoding and analysis, in milliseconds."),
    "image": _obj({"width": _t("integer"), "height": _t("integer"),
                   "format": _t("string", enum=["png", "jpeg", "bmp", "tiff", "dicom"]),
                   "frame": _t("integer"), "n_frames": _t("integer")}),
    "model": _obj({"name": _t("string"), "version": _t("string")}),
    "overlay_png_base64": _t("string", contentEncoding="base64", contentMediaType="image/png",
                             description="The image with the fitted ellipse and axes; only with overlay=1."),
}, optional=("overlay_png_base64",))

_ERROR = _obj({"status": _t("string", const="error"), "error": _t("string", enum=ERROR_CODES),
               "message": _t("string", description="What went wrong and what to do.")})

_HEALTH = _obj({
    "status": _t("string", enum=["healthy", "unhealthy"]), "model_loaded": _t("boolean"),
    "version": _t("string"), "uptime": _t("string", examples=["2d 14h 30m"]), "uptime_s": _t("number"),
    "model": _obj({"name": _t("string"), "version": _t("string"),
                   "runtime": _t("string", enum=list(RUNTIMES), description="What runs the network.")},
                  nullable=True),
    "reason": _t("string", description="Only when unhealthy: why the model is not loaded."),
}, optional=("reason",))

_MODEL_INFO = _obj({"status": _t("string", const="success"),
                    "model": _obj({"name": _t("string"), "version": _t("string")}),
                    "card": {"type": "object", "description": "model_card.json: architecture, training data "
                             "and split, validation metrics, intended use."},
                    "notice": _t("string")})


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, schema: str, html: bool = False) -> dict:
    content: dict = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


_FORMAT_PARAM = {"name": "format", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["json"]},
                 "description": "format=json asks for JSON like Accept: application/json."}

_UPLOAD_SCHEMA = {
    "type": "object", "required": ["image"],
    "properties": {
        "image": {"type": "string", "contentMediaType": "application/octet-stream",
                  "description": "PNG, JPEG, BMP, TIFF or DICOM; the format is read from the bytes."},
        "pixel_size_mm": {"type": "number", "minimum": PIXEL_SIZE_MM_RANGE[0], "maximum": PIXEL_SIZE_MM_RANGE[1],
                          "description": "Size of one pixel in mm; wins over the DICOM calibration. "
                                         "Without either, lengths are in pixels."},
        "ga_weeks": {"type": "number", "minimum": GA_WEEKS_RANGE[0], "maximum": GA_WEEKS_RANGE[1],
                     "description": "Gestational age in (decimal) weeks, for the z-score and centile."},
        "ga_days": {"type": "integer", "minimum": 0, "maximum": 6,
                    "description": "Days added to ga_weeks (the page sends weeks and days)."},
        "frame": {"type": "integer", "minimum": 0, "default": 0,
                  "description": "Frame of a multi-frame DICOM (or page of a TIFF), from 0."},
        "overlay": {"type": "string", "enum": ["0", "1"], "default": "0",
                    "description": "1: include overlay_png_base64."},
        "format": {"type": "string", "enum": ["json"], "description": "Same as Accept: application/json."},
    },
}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "fetalhc", "version": fetalhc.__version__,
                 "summary": "Fetal head circumference from 2D ultrasound images.",
                 "description": "Research use only, not a medical device: not for diagnostic use. "
                                "Uploads are processed in memory and never stored."},
        "components": {
            "schemas": {"Measurement": _MEASUREMENT, "Error": _ERROR, "Health": _HEALTH, "ModelInfo": _MODEL_INFO},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                           "description": "Required for JSON requests when the server "
                                                          "sets FETALHC_API_KEY."}},
        },
        "paths": {
            "/": {"get": {
                "summary": "The upload page for browsers",
                "responses": {"200": {"description": "HTML form.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}},
            }, "post": {
                "summary": "Measure the head circumference in one image",
                "description": "Answers JSON with Accept: application/json or format=json, else an HTML "
                               "page (the browser form, which needs its CSRF token instead of an API key).",
                "security": [{}, {"apiKey": []}],
                "parameters": [_FORMAT_PARAM],
                "requestBody": {"required": True,
                                "content": {"multipart/form-data": {"schema": _UPLOAD_SCHEMA}}},
                "responses": {
                    "200": _json("The measurement.", "Measurement", html=True),
                    "400": _error("missing_image, invalid_field (the message names the field), "
                                  "invalid_frame, or csrf_failed (browser form only)."),
                    "401": _error("unauthorized: missing or wrong X-API-Key while the server requires one."),
                    "413": _error("file_too_large: the upload exceeds FETALHC_MAX_UPLOAD_MB."),
                    "415": _error("unsupported_image: empty, not an image, truncated, unsupported DICOM, "
                                  "or dimensions out of range."),
                    "422": _error("no_head_found: no fetal head in the image."),
                    "429": _error("rate_limited: more requests than FETALHC_RATE_LIMIT allows."),
                    "503": _error("model_unavailable: the server has no model loaded."),
                },
            }},
            "/health": {"get": {
                "summary": "Liveness and model status (the App Runner health check)",
                "responses": {"200": _json("Healthy: the model is loaded.", "Health"),
                              "503": _json("Unhealthy: no model; reason says why.", "Health")},
            }},
            "/openapi.json": {"get": {
                "summary": "This description",
                "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/model": {"get": {
                "summary": "The model card (HTML, or JSON with Accept: application/json or format=json)",
                "parameters": [_FORMAT_PARAM],
                "responses": {"200": _json("The loaded model and its card.", "ModelInfo", html=True),
                              "503": _error("model_unavailable: the server has no model loaded.")},
            }},
        },
    }
