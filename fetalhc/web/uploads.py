"""The fields of ``POST /``, read as numbers; uploads stay in memory.

Whether a number is plausible (pixel size, gestational age) is checked once, by the predictor.

Werkzeug spools uploads above 500 kB into a temporary file; :class:`InMemoryRequest` keeps
them in memory instead, so an ultrasound image never touches the disk. ``MAX_CONTENT_LENGTH``
bounds the memory one request can take.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO

import werkzeug.formparser
from flask import Request
from werkzeug.datastructures import FileStorage, Headers, ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import MultipartDecoder

from fetalhc.measurement import Ellipse
from fetalhc.numbers import parse_number
from fetalhc.web.api_error import ApiError
from fetalhc.web.ellipse_request import gestational_age, parse_ellipse_field


# Werkzeug's limits on the form beside the image (Flask's defaults, kept explicit): at most this
# many parts, and this many bytes in one field other than a file.
MAX_FORM_PARTS = 1000
MAX_FORM_FIELD_BYTES = 500_000


class FormPartsExceeded(RequestEntityTooLarge):
    description = f"The form has more than {MAX_FORM_PARTS:,} fields."


class FormFieldTooLarge(RequestEntityTooLarge):
    description = f"A form field other than the image is larger than {MAX_FORM_FIELD_BYTES // 1000:,} kB."


class _TolerantDecoder(MultipartDecoder):
    """Werkzeug's multipart decoder, with two changes.

    * A part header that is not UTF-8 (a file or field name in Latin-1, Shift-JIS, ...) is read
      as Latin-1 instead of failing: Werkzeug's error made the whole form empty (400
      ``missing_image`` although an image was sent).
    * Its two limits raise exceptions that say which limit was exceeded.
    """

    def _parse_headers(self, data: bytes | bytearray) -> Headers:
        try:
            return super()._parse_headers(data)
        except UnicodeDecodeError:
            return super()._parse_headers(bytes(data).decode("latin-1").encode("utf-8"))

    def receive_data(self, data: bytes | None) -> None:
        try:
            super().receive_data(data)
        except FormPartsExceeded:
            raise
        except RequestEntityTooLarge:
            raise FormFieldTooLarge() from None

    def next_event(self):
        try:
            return super().next_event()
        except RequestEntityTooLarge:
            raise FormPartsExceeded() from None


# Werkzeug's MultiPartParser builds its decoder from this module attribute and has no other hook.
werkzeug.formparser.MultipartDecoder = _TolerantDecoder  # type: ignore[misc]


class InMemoryRequest(Request):
    max_form_parts = MAX_FORM_PARTS
    max_form_memory_size = MAX_FORM_FIELD_BYTES

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


@dataclass(frozen=True)
class MeasureRequest:
    image: bytes
    pixel_size_mm: float | None
    ga_weeks: float | None
    frame: int
    overlay: bool
    ellipse: Ellipse | None = None  # placed by hand: replaces the automatic fit


def _shown(raw: str) -> str:
    """The user's value, shortened, for an error message."""
    return repr(raw if len(raw) <= 20 else raw[:20] + "...")


def _invalid(field: str, rule: str, raw: str) -> ApiError:
    return ApiError(400, "invalid_field", f"The field '{field}' {rule}; got {_shown(raw)}. "
                                          "Correct it or leave it empty.")


def _optional_float(form: ImmutableMultiDict, field: str, unit: str) -> float | None:
    raw = form.get(field, "")
    try:
        return parse_number(raw)
    except ValueError:
        raise _invalid(field, f"must be a number in {unit}", raw.strip()) from None


def _optional_int(form: ImmutableMultiDict, field: str, low: int, high: int | None) -> int | None:
    raw = form.get(field, "")
    rule = f"must be a whole number from {low} to {high}" if high is not None else \
        f"must be a whole number, {low} or more"
    try:
        value = parse_number(raw, int)
    except ValueError:
        raise _invalid(field, rule, raw.strip()) from None
    if value is not None and (value < low or (high is not None and value > high)):
        raise _invalid(field, rule, raw.strip())
    return value


def _gestational_age(form: ImmutableMultiDict) -> float | None:
    """``ga_weeks`` (decimal weeks) plus the optional ``ga_days`` (0-6) of the page's two fields."""
    return gestational_age(_optional_float(form, "ga_weeks", "weeks"), _optional_int(form, "ga_days", 0, 6))


def _image_bytes(files: ImmutableMultiDict) -> bytes:
    upload: FileStorage | None = files.get("image")
    # A browser form submitted without a chosen file sends an empty part with no file name.
    data = upload.read() if upload is not None else b""
    if upload is None or (not data and not upload.filename):
        raise ApiError(400, "missing_image", "No image was sent. Choose an ultrasound image "
                                             "(PNG, JPEG, BMP, TIFF or DICOM) and send it in the field 'image'.")
    return data


def calibration_and_age(form: ImmutableMultiDict) -> tuple[float | None, float | None]:
    """``pixel_size_mm`` and ``ga_weeks`` (plus ``ga_days``), the fields ``POST /batch`` shares with ``POST /``."""
    return _optional_float(form, "pixel_size_mm", "mm per pixel"), _gestational_age(form)


def upload_too_large(limit_bytes: int) -> str:
    """The message for one upload above ``FETALHC_MAX_UPLOAD_MB`` (``POST /``, and an image of a batch)."""
    return (f"The upload is larger than the {limit_bytes / (1024 * 1024):g} MB limit. Export a single frame or "
            "a smaller image and retry.")


def parse_measure_request(form: ImmutableMultiDict, files: ImmutableMultiDict) -> MeasureRequest:
    """The checked fields of ``POST /``; raises :class:`ApiError` 400 naming the field at fault."""
    image = _image_bytes(files)
    pixel_size_mm = _optional_float(form, "pixel_size_mm", "mm per pixel")
    ga_weeks = _gestational_age(form)
    frame = _optional_int(form, "frame", 0, None) or 0
    overlay = form.get("overlay", "").strip()
    if overlay not in ("", "0", "1"):
        raise _invalid("overlay", "must be 1 (include the overlay image) or 0", overlay)
    return MeasureRequest(image, pixel_size_mm, ga_weeks, frame, overlay == "1",
                          parse_ellipse_field(form.get("ellipse", "")))
