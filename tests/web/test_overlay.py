"""fetalhc.overlay: the ellipse and axes land where the measurement says, at sub-pixel precision."""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from fetalhc.imaging import PixelSpacing
from fetalhc.measurement import Ellipse, measure_head
from fetalhc.measurement.geometry import draw_filled
from fetalhc.overlay import BPD_BGR, ELLIPSE_BGR, OFD_BGR, draw_overlay, encode_png

SHAPE = (540, 800)


def biometry_of(ellipse: Ellipse, spacing: PixelSpacing | None = PixelSpacing(0.1, 0.1, "form")):
    """A measurement whose fitted ellipse is (very nearly) ``ellipse``."""
    mask = draw_filled(SHAPE, ellipse).astype(np.float32) / 255.0
    return measure_head(cv2.resize(mask, (256, 256), interpolation=cv2.INTER_AREA), SHAPE, spacing)


def pixels_of(img: np.ndarray, bgr: tuple[int, int, int]) -> np.ndarray:
    """(x, y) of pixels drawn in exactly this colour."""
    ys, xs = np.nonzero(np.all(img == np.array(bgr, np.uint8), axis=2))
    return np.stack([xs, ys], axis=1).astype(float)


@pytest.fixture(scope="module")
def drawn():
    gray = np.full(SHAPE, 60, np.uint8)
    b = biometry_of(Ellipse(400.3, 260.7, 180.0, 130.0, 30.0))
    return gray, b, draw_overlay(gray, b)


def test_output_is_a_bgr_copy_of_the_image(drawn):
    gray, _, img = drawn
    assert img.shape == (*SHAPE, 3) and img.dtype == np.uint8
    assert (gray == 60).all()  # the input is untouched
    assert (img[-5:, -5:] == 60).all()  # away from the drawing the image is unchanged


def test_ellipse_pixels_lie_on_the_fitted_ellipse(drawn):
    _, b, img = drawn
    e = b.ellipse
    pts = pixels_of(img, ELLIPSE_BGR)
    assert len(pts) > 500
    th = math.radians(e.angle_deg)
    dx, dy = pts[:, 0] - e.center_x, pts[:, 1] - e.center_y
    u = (dx * math.cos(th) + dy * math.sin(th)) / e.semi_major
    v = (-dx * math.sin(th) + dy * math.cos(th)) / e.semi_minor
    radius = np.sqrt(u * u + v * v)
    assert np.abs(radius - 1).max() < 3.0 / e.semi_minor  # within the line width


def test_axes_run_along_the_major_and_minor_axes(drawn):
    _, b, img = drawn
    e = b.ellipse
    th = math.radians(e.angle_deg)
    for colour, direction, half_length in ((OFD_BGR, (math.cos(th), math.sin(th)), e.semi_major),
                                           (BPD_BGR, (-math.sin(th), math.cos(th)), e.semi_minor)):
        pts = pixels_of(img, colour) - [e.center_x, e.center_y]
        along = pts @ np.array(direction)
        across = pts @ np.array([-direction[1], direction[0]])
        assert np.abs(across).max() < 2.5
        assert along.max() == pytest.approx(half_length, abs=2.5)
        assert along.min() == pytest.approx(-half_length, abs=2.5)


def test_sub_pixel_position_moves_the_drawing(drawn):
    gray, b, img = drawn
    shifted = dataclasses.replace(b, ellipse=dataclasses.replace(b.ellipse, center_x=b.ellipse.center_x + 0.25))
    assert not np.array_equal(draw_overlay(gray, shifted), img)


def test_label_names_the_measurement(drawn):
    _, b, img = drawn
    assert (img[2:10, 2:10] == 0).all()  # the label's dark box in the top-left corner
    uncalibrated = draw_overlay(np.full(SHAPE, 60, np.uint8), biometry_of(b.ellipse, spacing=None))
    assert (uncalibrated[2:10, 2:10] == 0).all()


def test_label_shrinks_to_fit_a_narrow_image(drawn):
    b = dataclasses.replace(drawn[1], ellipse=Ellipse(45, 60, 30, 20, 0))
    img = draw_overlay(np.full((120, 90), 60, np.uint8), b)
    box_rows = np.nonzero((img[:, 0] == 0).all(axis=1))[0]  # the box starts at the left edge
    assert len(box_rows) and box_rows.max() < 30  # a short box: the text was scaled down


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10), np.float32)])
def test_rejects_anything_but_gray_uint8(bad, drawn):
    with pytest.raises(ValueError, match="grayscale"):
        draw_overlay(bad, drawn[1])


def test_png_round_trip(drawn):
    img = drawn[2]
    assert np.array_equal(cv2.imdecode(np.frombuffer(encode_png(img), np.uint8), cv2.IMREAD_COLOR), img)
