"""Draw a measurement on its image: the fitted head ellipse, the OFD and BPD axes and a label.

Used by the web app (result image and PNG download) and by evaluation overlays.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from fetalhc.measurement import Biometry, Ellipse
from fetalhc.numbers import fixed

# BGR colours chosen to stay visible on gray speckle and to differ for colour-blind readers.
ELLIPSE_BGR = (0, 215, 255)  # amber
OFD_BGR = (255, 191, 0)      # sky blue
BPD_BGR = (255, 0, 255)      # magenta
TEXT_BGR = (255, 255, 255)
# cv2 drawing takes integer coordinates; with shift=4 they are in 1/16 pixel.
_SHIFT = 4
_SCALE = 1 << _SHIFT


def _fixed(x: float, y: float) -> tuple[int, int]:
    return int(round(x * _SCALE)), int(round(y * _SCALE))


def draw_ellipse(img: np.ndarray, e: Ellipse, color: tuple[int, int, int], thickness: int) -> None:
    """Draw ``e`` on ``img`` in place, anti-aliased at sub-pixel precision."""
    cv2.ellipse(img, _fixed(e.center_x, e.center_y), _fixed(e.semi_major, e.semi_minor), e.angle_deg, 0, 360,
                color, thickness, cv2.LINE_AA, _SHIFT)


def draw_overlay(gray: np.ndarray, biometry: Biometry) -> np.ndarray:
    """A BGR ``uint8`` copy of ``gray`` with the ellipse, both axes and an HC label drawn on it."""
    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"expected a 2D uint8 grayscale image, got {gray.dtype} with shape {gray.shape}")
    img = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    e = biometry.ellipse
    thickness = _line_width(img)
    th = math.radians(e.angle_deg)
    major = (e.semi_major * math.cos(th), e.semi_major * math.sin(th))
    minor = (-e.semi_minor * math.sin(th), e.semi_minor * math.cos(th))
    cx, cy = e.center_x, e.center_y
    draw_ellipse(img, e, ELLIPSE_BGR, thickness)
    cv2.line(img, _fixed(cx - major[0], cy - major[1]), _fixed(cx + major[0], cy + major[1]),
             OFD_BGR, thickness, cv2.LINE_AA, _SHIFT)
    cv2.line(img, _fixed(cx - minor[0], cy - minor[1]), _fixed(cx + minor[0], cy + minor[1]),
             BPD_BGR, thickness, cv2.LINE_AA, _SHIFT)
    draw_label(img, label_text(biometry))
    return img


def _line_width(img: np.ndarray) -> int:
    # Line widths and text grow with the image so the drawing reads the same at any resolution.
    return max(1, round(max(img.shape[:2]) / 400))


def label_text(b: Biometry) -> str:
    """The overlay's label: the values with the digits of the result record (fetalhc.numbers.fixed),
    so the image never shows a number the page and the JSON round differently."""
    if b.hc_mm is not None:
        return f"HC {fixed(b.hc_mm)} mm  BPD {fixed(b.bpd_mm)} mm  OFD {fixed(b.ofd_mm)} mm"
    return f"HC {fixed(b.hc_px)} px (uncalibrated)"


def draw_label(img: np.ndarray, text: str) -> None:
    """White ``text`` on a dark box in the top-left corner of ``img``, shrunk to fit narrow images."""
    thickness = _line_width(img)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.4, img.shape[1] / 1600)
    (w, h), baseline = cv2.getTextSize(text, font, scale, thickness)
    margin = max(4, h // 2)
    if w + 2 * margin > img.shape[1]:
        scale *= (img.shape[1] - 2 * margin) / w
        (w, h), baseline = cv2.getTextSize(text, font, scale, thickness)
    cv2.rectangle(img, (0, 0), (w + 2 * margin, h + baseline + 2 * margin), (0, 0, 0), cv2.FILLED)
    cv2.putText(img, text, (margin, margin + h), font, scale, TEXT_BGR, thickness, cv2.LINE_AA)


def encode_png(img: np.ndarray) -> bytes:
    """PNG bytes of a ``uint8`` gray or BGR image."""
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ValueError(f"could not encode an image of shape {img.shape} as PNG")
    return buf.tobytes()
