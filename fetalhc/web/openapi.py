"""The OpenAPI 3.1 description served at ``/openapi.json``; tests check the app against it."""
from __future__ import annotations

from typing import Any

import fetalhc
from fetalhc.record import MeasurementAnswer, MeasurementRecord
from fetalhc.settings import RUNTIMES, Settings

_LIMITS = Settings()


def _record_schemas() -> dict[str, dict]:
    """The answer's schema and its parts, generated from the result record, as named components."""
    schema = MeasurementAnswer.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    parts = schema.pop("$defs", {})
    # Sent only when asked for (overlay=1), and then a string.
    schema["required"].remove("overlay_png_base64")
    schema["properties"]["overlay_png_base64"].pop("anyOf")
    schema["properties"]["overlay_png_base64"].update(type="string")
    return {"Measurement": schema, **parts}


ERROR_CODES = ["missing_image", "invalid_field", "invalid_frame", "unauthorized", "csrf_failed",
               "file_too_large", "form_too_large", "unsupported_image", "not_ultrasound", "no_head_found",
               "rate_limited",
               "model_unavailable", "not_found", "method_not_allowed", "internal_error",
               "not_acceptable", "needs_calibration", "needs_dicom", "invalid_json",
               # POST /batch: limits of the whole batch (413), and rows of a zip that cannot be read
               "batch_too_large", "too_many_images", "zip_too_many_entries", "zip_too_large",
               "bad_zip", "zip_entry_refused"]


def _t(kind: str, nullable: bool = False, **extra: Any) -> dict:
    return {"type": [kind, "null"] if nullable else kind, **extra}


def _obj(properties: dict, nullable: bool = False, optional: tuple[str, ...] = ()) -> dict:
    """A closed object: every property required unless listed in ``optional``."""
    return {"type": ["object", "null"] if nullable else "object", "properties": properties,
            "required": [k for k in properties if k not in optional], "additionalProperties": False}


_ERROR = _obj({"status": _t("string", const="error"), "error": _t("string", enum=ERROR_CODES),
               "message": _t("string", description="What went wrong and what to do."),
               "request_id": _t("string", description="As in the X-Request-ID header.")})

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


# The answers of a missing key and a missing model: every route that measures gives both, /model the second.
_UNAUTHORIZED = "unauthorized: missing or wrong X-API-Key while the server requires one."
_MODEL_UNAVAILABLE = "model_unavailable: the server has no model loaded."


def _measuring_responses(own: dict[str, dict]) -> dict[str, dict]:
    """The responses of a route that measures (POST /, /batch, /ellipse): its own, with the 401 of the
    key after its 400 and the 503 of the model last, where /openapi.json has always listed them."""
    items = list(own.items())
    after_400 = list(own).index("400") + 1
    return dict([*items[:after_400], ("401", _error(_UNAUTHORIZED)), *items[after_400:],
                 ("503", _error(_MODEL_UNAVAILABLE))])


def _json(description: str, schema: str, html: bool = False) -> dict:
    content: dict = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


_FORMAT_PARAM = {"name": "format", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["json", "html"]},
                 "description": "Overrides the Accept header: format=json asks for JSON."}
_MEASURE_FORMAT_PARAM = {**_FORMAT_PARAM, "schema": {"type": "string", "enum": ["json", "html", "fhir", "sr", "pdf"]},
                         "description": "Overrides the Accept header: json, html, fhir (FHIR R4 Bundle), sr "
                                        "(DICOM SR, DICOM uploads only) or pdf (the PDF report)."}

def _measured() -> dict:
    answer = _json("The measurement.", "Measurement", html=True)
    answer["content"]["application/fhir+json"] = {"schema": {"type": "object", "description":
                                                  "FHIR R4 Bundle (collection) of Observations and the Device."}}
    answer["content"]["application/dicom"] = {"schema": {"type": "string", "contentMediaType": "application/dicom",
                                              "description": "DICOM Comprehensive SR, measurement report TID 1500."}}
    answer["content"]["application/pdf"] = {"schema": {"type": "string", "contentMediaType": "application/pdf",
                                            "description": "The one-page PDF report (docs/api.md, PDF report); "
                                                           "Content-Disposition names it by the time measured."}}
    return answer


_UPLOAD_SCHEMA = {
    "type": "object", "required": ["image"],
    "properties": {
        "image": {"type": "string", "contentMediaType": "application/octet-stream",
                  "description": "PNG, JPEG, BMP, TIFF or DICOM; the format is read from the bytes."},
        "pixel_size_mm": {"type": "number", "minimum": _LIMITS.pixel_size_mm_range[0], "maximum": _LIMITS.pixel_size_mm_range[1],
                          "description": "Size of one pixel in mm; wins over the DICOM calibration. "
                                         "Without either, lengths are in pixels."},
        "ga_weeks": {"type": "number", "minimum": _LIMITS.ga_weeks_range[0], "maximum": _LIMITS.ga_weeks_range[1],
                     "description": "Gestational age in (decimal) weeks, for the z-score and centile."},
        "ga_days": {"type": "integer", "minimum": 0, "maximum": 6,
                    "description": "Days added to ga_weeks (the page sends weeks and days)."},
        "frame": {"type": "integer", "minimum": 0, "default": 0,
                  "description": "Frame of a multi-frame DICOM (or page of a TIFF), from 0."},
        "overlay": {"type": "string", "enum": ["0", "1"], "default": "0",
                    "description": "1: include overlay_png_base64."},
        "exam_label": {"type": "string", "maxLength": 80,
                       "description": "PDF only: the user's own reference for the exam, one line, printed as "
                                      "typed (trimmed); never stored or logged."},
        "format": {"type": "string", "enum": ["json", "html", "fhir", "sr", "pdf"], "description": "Overrides Accept."},
        "ellipse": {"type": "string", "contentMediaType": "application/json",
                    "description": "An ellipse placed by hand, as JSON in the answer's convention (as the ellipse "
                                   "of POST /ellipse): it replaces the automatic fit, which is reported under "
                                   "automatic."},
        "accepted": {"type": "string", "enum": ["0", "1"], "default": "0",
                     "description": "FHIR only: 1 when the user accepted the result (status final, else preliminary)."},
        "subject": {"type": "string", "pattern": "^(Patient|Group)/[A-Za-z0-9.-]{1,64}$",
                    "description": "FHIR only: the client's reference for Observation.subject; the Bundle holds "
                                   "no other subject data."},
    },
}


_POSITIONS = {
    "index": _t("integer", description="Position of the row in results, from 0."),
    "upload": _t("integer", description="Which uploaded file (field images), from 0, in the order sent."),
    "entry": _t("integer", nullable=True, description="Which image of that zip, from 0 in name order; "
                                                      "null for an image sent as itself."),
}


def _batch_schemas() -> dict[str, dict]:
    """POST /batch: rows are the record (without the request id, which the batch has once) or an
    error, each with its position; file names are never sent back."""
    row = MeasurementRecord.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    row.pop("$defs", None)
    row.update(title="BatchMeasurement", properties={**_POSITIONS, **row["properties"]},
               required=[*_POSITIONS, *row["required"]])
    error = _obj({**_POSITIONS, "status": _t("string", const="error"), "error": _obj({
        "code": _t("string", enum=ERROR_CODES), "message": _t("string", description="What went wrong and what to do."),
        "http_status": _t("integer", description="What POST / answers for this image alone.")})})
    batch = _obj({
        "status": _t("string", const="success"),
        "results": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/BatchMeasurement"},
                                                         {"$ref": "#/components/schemas/BatchError"}]}},
        "table": {**_obj({"columns": {"type": "array", "items": {"type": "string"}},
                          "rows": {"type": "array", "items": {"type": "array"}}}),
                  "description": "The rows as a table for a CSV: the command-line batch CSV's columns (the "
                                 "record's flat form), with positions instead of the file name."},
        "request_id": _t("string", description="As in the X-Request-ID header."),
    })
    return {"BatchMeasurement": row, "BatchError": error, "Batch": batch}


_BATCH_UPLOAD_SCHEMA = {
    "type": "object", "required": ["images"],
    "properties": {
        "images": {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"},
                   "description": "The field repeated once per file: PNG, JPEG, BMP, TIFF or DICOM images, or "
                                  "zips of them (stored or deflated; expanded in memory, images in name order)."},
        **{k: _UPLOAD_SCHEMA["properties"][k] for k in ("pixel_size_mm", "ga_weeks", "ga_days")},
    },
}


def _batch_path() -> dict:
    return {"post": {
        "summary": "Measure several images, or zips of images, in one request",
        "description": "One row per image in upload order, a zip's images in name order: the record POST / "
                       "answers, or the error it gives for that image. One bad image is one error row; the "
                       "batch's own limits answer 413 (docs/batch.md). Each image counts as one upload "
                       "against FETALHC_RATE_LIMIT. Browser posts need the page's CSRF token.",
        "security": [{}, {"apiKey": []}],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _BATCH_UPLOAD_SCHEMA}}},
        "responses": _measuring_responses({
            "200": _json("One row per image.", "Batch"),
            "400": _error("missing_image: no file in the field images; invalid_field (the message names the "
                          "field); csrf_failed (browser posts only)."),
            "413": _error("batch_too_large (FETALHC_BATCH_MAX_MB), too_many_images (FETALHC_BATCH_MAX_IMAGES), "
                          "zip_too_many_entries (FETALHC_ZIP_MAX_ENTRIES), zip_too_large (FETALHC_ZIP_MAX_MB), "
                          "form_too_large."),
            "429": _error("rate_limited: more images than FETALHC_RATE_LIMIT allows."),
        }),
    }}


_ELLIPSE = {"$ref": "#/components/schemas/EllipseRecord"}
_ELLIPSE_REQUEST = _obj({
    "ellipse": {**_ELLIPSE, "description": "The ellipse placed by hand, in the answer's convention; a semi-minor "
                                           "axis longer than the semi-major one is read with the axes swapped. Its "
                                           "centre must lie on the image, its semi-axes above 0 and at most the "
                                           "image's diagonal."},
    "image": _obj({"width": _t("integer", minimum=1), "height": _t("integer", minimum=1),
                   "format": _t("string", enum=["png", "jpeg", "bmp", "tiff", "dicom"]),
                   "frame": _t("integer", minimum=0), "n_frames": _t("integer", minimum=1)},
                  optional=("format", "frame", "n_frames")),
    "pixel_size_mm": _t("number", nullable=True, minimum=_LIMITS.pixel_size_mm_range[0],
                        maximum=_LIMITS.pixel_size_mm_range[1], description="Pixel width in mm; without it, "
                        "lengths are in pixels."),
    "pixel_size_y_mm": _t("number", nullable=True, description="Pixel height in mm, when it differs (as "
                                                              "the answer's pixel_size_y_mm)."),
    "pixel_size_source": _t("string", enum=["form", "dicom"], default="form",
                            description="Where the pixel size came from, as the answer's pixel_size_source."),
    "ga_weeks": _t("number", nullable=True, minimum=_LIMITS.ga_weeks_range[0], maximum=_LIMITS.ga_weeks_range[1]),
    "ga_days": _t("integer", nullable=True, minimum=0, maximum=6),
    "automatic": {"anyOf": [_ELLIPSE, {"type": "null"}],
                  "description": "The automatic fit's ellipse: its values come back under automatic."},
}, optional=("pixel_size_mm", "pixel_size_y_mm", "pixel_size_source", "ga_weeks", "ga_days", "automatic"))


def _ellipse_path() -> dict:
    return {"post": {
        "summary": "Measure an ellipse placed by hand (the page's ellipse editor); decodes no image",
        "description": "The result record of the ellipse, made by the same code as POST /'s, with ellipse_source "
                       "edited: no model interval (the summary says so), no confidence, and the verdict of the "
                       "checks that need no image. Counted by FETALHC_ELLIPSE_RATE_LIMIT, not by the upload limit.",
        "security": [{}, {"apiKey": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ELLIPSE_REQUEST}}},
        "responses": _measuring_responses({
            "200": _json("The measurement of the ellipse, without overlay_png_base64.", "Measurement"),
            "400": _error("invalid_json: the body is not a JSON object; invalid_field: the message names the "
                          "field; csrf_failed: the page's token is stale."),
            "413": _error("form_too_large: the JSON body is larger than 10 kB."),
            "429": _error("rate_limited: more requests than FETALHC_ELLIPSE_RATE_LIMIT allows."),
        }),
    }}


def _csv_path() -> dict:
    return {"post": {
        "summary": "A result record as a CSV file (the page's Result CSV); decodes no image",
        "description": "The record that POST / or POST /ellipse answered, sent back as it came (without "
                       "overlay_png_base64), as a CSV file: a header and one row, the record's flat form as in "
                       "POST /batch's table and the command-line batch CSV (nested keys joined with dots, an "
                       "interval as _low and _high columns, alerts by their codes, null as an empty cell, no "
                       "summary rows). The record's shape is checked, not its numbers; it needs no API key.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Measurement"}}}},
        "responses": {
            "200": {"description": "The CSV; Content-Disposition names it fetalhc-result.csv.",
                    "content": {"text/csv": {"schema": {"type": "string"}}}},
            "400": _error("invalid_json: the body is not a JSON object; invalid_field: not a result record (the "
                          "message names the first field that is wrong)."),
            "413": _error("form_too_large: the JSON body is larger than 64 kB (an overlay image was sent)."),
            "429": _error("rate_limited: more requests to this route than FETALHC_RATE_LIMIT allows."),
        },
    }}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "fetalhc", "version": fetalhc.__version__,
                 "summary": "Fetal head circumference from 2D ultrasound images.",
                 "description": "Research use only, not a medical device: not for diagnostic use. "
                                "Uploads are processed in memory and never stored."},
        "components": {
            "schemas": {**_record_schemas(), **_batch_schemas(), "Error": _ERROR, "Health": _HEALTH,
                        "ModelInfo": _MODEL_INFO},
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
                "description": "Answers by the Accept header's preference, format= overriding it: JSON for "
                               "application/json, */* or no header; the HTML page when text/html comes first "
                               "(the browser form, which needs its CSRF token instead of an API key); a FHIR R4 "
                               "Bundle for application/fhir+json; a DICOM Comprehensive SR (TID 1500) for "
                               "application/dicom; the PDF report for application/pdf; 406 otherwise. Errors are JSON unless "
                               "the client prefers HTML.",
                "security": [{}, {"apiKey": []}],
                "parameters": [_MEASURE_FORMAT_PARAM],
                "requestBody": {"required": True,
                                "content": {"multipart/form-data": {"schema": _UPLOAD_SCHEMA}}},
                "responses": _measuring_responses({
                    "200": _measured(),
                    "400": _error("missing_image, invalid_field (the message names the field), "
                                  "invalid_frame, or csrf_failed (browser form only)."),
                    "413": _error("file_too_large: the upload exceeds FETALHC_MAX_UPLOAD_MB; form_too_large: "
                                  "more than 1,000 form fields, or a field other than the image above 500 kB."),
                    "415": _error("unsupported_image: empty, not an image, truncated, unsupported DICOM, "
                                  "dimensions out of range, or decoding above its memory or time limit."),
                    "406": _error("not_acceptable: the Accept header or format names no type this server makes."),
                    "422": _error("no_head_found: no fetal head in the image; not_ultrasound: another DICOM "
                                  "modality, or a shape no ultrasound frame has; needs_calibration: FHIR or SR "
                                  "without a pixel size; needs_dicom: SR of a non-DICOM upload or one without UIDs."),
                    "429": _error("rate_limited: more requests than FETALHC_RATE_LIMIT allows."),
                }),
            }},
            "/batch": _batch_path(),
            "/ellipse": _ellipse_path(),
            "/csv": _csv_path(),
            "/health": {"get": {
                "summary": "Liveness and model status (the App Runner health check)",
                "responses": {"200": _json("Healthy: the model is loaded.", "Health"),
                              "503": _json("Unhealthy: no model; reason says why.", "Health")},
            }},
            "/chart.svg": {"get": {
                "summary": "The INTERGROWTH-21st head circumference chart (3rd to 97th centile, 14 to 40 weeks) "
                           "with one measurement marked; decodes no image",
                "parameters": [
                    {"name": "hc_mm", "in": "query", "required": True, "schema": {"type": "number", "exclusiveMinimum": 0},
                     "description": "The head circumference in mm (drawn at the chart's edge beyond 50-400 mm)."},
                    {"name": "ga_weeks", "in": "query", "required": True, "schema": {"type": "number"},
                     "description": "Gestational age in (decimal) weeks; with ga_days, from 14+0 to 40+0."},
                    {"name": "ga_days", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 0, "maximum": 6}, "description": "Days added to ga_weeks."},
                ],
                "responses": {"200": {"description": "An SVG with a title, a description, axes, a legend and the "
                                                     "measurement marked by a shape and a label.",
                                      "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
                              "400": _error("invalid_field: a value missing, not a number, or outside the standard "
                                            "(the message says which and what to send).")},
            }},
            "/openapi.json": {"get": {
                "summary": "This description",
                "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/docs": {"get": {
                "summary": "This description as a page people can read (Swagger UI, served by this app)",
                "responses": {"200": {"description": "HTML page rendering /openapi.json.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}},
            }},
            "/model": {"get": {
                "summary": "The model card (HTML, or JSON with Accept: application/json or format=json)",
                "parameters": [_FORMAT_PARAM],
                "responses": {"200": _json("The loaded model and its card.", "ModelInfo", html=True),
                              "503": _error(_MODEL_UNAVAILABLE)},
            }},
            "/key": {"post": {
                "summary": "The page's access-key form (when FETALHC_API_KEY is set): a right key is kept "
                           "in the signed session cookie; API clients send X-API-Key instead",
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["api_key", "csrf_token"],
                    "properties": {"api_key": {"type": "string"}, "csrf_token": {"type": "string"}}}}}},
                "responses": {"303": {"description": "Key accepted: back to the page (Location: /).",
                                      "content": {"text/html": {"schema": {"type": "string"}}}},
                              "400": _error("csrf_failed: the page's token is missing or stale."),
                              "401": {"description": "Wrong key: the key form again.",
                                      "content": {"text/html": {"schema": {"type": "string"}}}}},
            }},
        },
    }
