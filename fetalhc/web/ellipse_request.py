"""The JSON of ``POST /ellipse`` and the ``ellipse`` field of ``POST /``, read into checked values.

Here only the form of each value is checked (a number, an object with the right keys); whether an
ellipse lies on its image and whether a pixel size or gestational age is plausible is checked once,
by the predictor. Every problem is a 400 that names the field.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from fetalhc.imaging.types import ImageFacts, PixelSpacing
from fetalhc.measurement import Ellipse
from fetalhc.web.api_error import ApiError

# The answer's convention (EllipseRecord): centre and semi-axes in pixels, clockwise angle in degrees.
ELLIPSE_KEYS = ("center_x_px", "center_y_px", "semi_major_px", "semi_minor_px", "angle_deg")
REQUEST_KEYS = ("ellipse", "image", "pixel_size_mm", "pixel_size_y_mm", "pixel_size_source", "ga_weeks", "ga_days",
                "automatic")
IMAGE_KEYS = ("width", "height", "format", "frame", "n_frames")
FORMATS = ("png", "jpeg", "bmp", "tiff", "dicom")


@dataclass(frozen=True)
class EllipseRequest:
    ellipse: Ellipse
    image: ImageFacts            # its spacing is the pixel size sent, if any
    ga_weeks: float | None
    automatic: Ellipse | None


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_field", message)


def _closed_object(value: Any, what: str, keys: tuple[str, ...], required: tuple[str, ...]) -> dict:
    """``value`` as an object with ``required`` and no key outside ``keys``; ``what`` names it in a message."""
    if not isinstance(value, dict):
        raise _invalid(f"{what} must be an object with the keys {', '.join(required)}.")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise _invalid(f"{what} has keys this server does not know: {', '.join(unknown)[:200]}. "
                       f"It takes {', '.join(keys)}.")
    missing = [k for k in required if value.get(k) is None]
    if missing:
        raise _invalid(f"{what} lacks {', '.join(missing)}.")
    return value


def _number(value: Any, field: str) -> float | None:
    """A JSON number (not a boolean, not a string), finite; None stays None."""
    if value is None:
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer too large for a float
        number = math.nan
    if not math.isfinite(number):
        raise _invalid(f"The field '{field}' must be a number; got {json.dumps(value)[:30]}.")
    return number


def _whole(value: Any, field: str, low: int, high: int | None = None) -> int | None:
    number = _number(value, field)
    if number is not None and (number != int(number) or number < low or (high is not None and number > high)):
        rule = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise _invalid(f"The field '{field}' must be a whole number {rule}; got {json.dumps(value)}.")
    return None if number is None else int(number)


def parse_ellipse(value: Any, field: str = "ellipse") -> Ellipse:
    """An ellipse in the answer's convention. A semi-minor axis longer than the semi-major one is taken
    as the same ellipse with the axes named the other way round (the major axis is reported)."""
    obj = _closed_object(value, f"The field '{field}'", ELLIPSE_KEYS, ELLIPSE_KEYS)
    x, y, a, b, angle = (_number(obj[k], f"{field}.{k}") for k in ELLIPSE_KEYS)
    return Ellipse(x, y, a, b, angle).normalised()


def parse_ellipse_field(raw: str) -> Ellipse | None:
    """The ``ellipse`` field of ``POST /``: the same object as JSON text; empty means the automatic fit."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise _invalid("The field 'ellipse' must be JSON such as {\"center_x_px\": 400, \"center_y_px\": 270, "
                       "\"semi_major_px\": 200, \"semi_minor_px\": 160, \"angle_deg\": 10}.") from None
    return parse_ellipse(value)


def gestational_age(weeks: float | None, days: int | None) -> float | None:
    """Weeks plus the optional days (0-6) of the page's two fields, in decimal weeks."""
    if days is None:
        return weeks
    if weeks is None:
        raise _invalid("The field 'ga_days' needs 'ga_weeks' as well: enter the gestational age as weeks plus days.")
    return weeks + days / 7.0


def _spacing(body: dict) -> PixelSpacing | None:
    x = _number(body.get("pixel_size_mm"), "pixel_size_mm")
    y = _number(body.get("pixel_size_y_mm"), "pixel_size_y_mm")
    source = body.get("pixel_size_source") or "form"
    if source not in ("form", "dicom"):
        raise _invalid(f"The field 'pixel_size_source' must be \"form\" or \"dicom\"; got {json.dumps(source)[:30]}.")
    if x is None:
        if y is not None:
            raise _invalid("The field 'pixel_size_y_mm' needs 'pixel_size_mm' (the pixel width) as well.")
        return None
    return PixelSpacing(x, x if y is None else y, source)


def parse_ellipse_request(body: Any, max_pixels: int) -> EllipseRequest:
    """The checked body of ``POST /ellipse``."""
    body = _closed_object(body, "The JSON body", REQUEST_KEYS, ("ellipse", "image"))
    image = _closed_object(body["image"], "The field 'image'", IMAGE_KEYS, ("width", "height"))
    width, height = _whole(image["width"], "image.width", 1), _whole(image["height"], "image.height", 1)
    if width * height > max_pixels:
        raise _invalid(f"The field 'image' describes a {width}x{height} image, more than the {max_pixels:,} pixels "
                       "this server measures.")
    fmt = image.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise _invalid(f"The field 'image.format' must be one of {', '.join(FORMATS)}; got {json.dumps(fmt)[:30]}.")
    facts = ImageFacts(width, height, fmt, _whole(image.get("frame"), "image.frame", 0),
                       _whole(image.get("n_frames"), "image.n_frames", 1), _spacing(body))
    ga_weeks = gestational_age(_number(body.get("ga_weeks"), "ga_weeks"), _whole(body.get("ga_days"), "ga_days", 0, 6))
    automatic = None if body.get("automatic") is None else parse_ellipse(body["automatic"], "automatic")
    return EllipseRequest(parse_ellipse(body["ellipse"]), facts, ga_weeks, automatic)
