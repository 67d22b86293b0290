"""Measurement on synthetic ellipse phantoms of known geometry."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy.special import ellipe

from fetalhc.imaging import PixelSpacing
from fetalhc.measurement import Ellipse, NoHeadFoundError, fit_ellipse, measure_head, ramanujan_perimeter
from fetalhc.measurement.contour import fill_holes
from fetalhc.measurement.geometry import draw_filled
from fetalhc.model.preprocess import mask_to_model_space


def exact_perimeter(a: float, b: float) -> float:
    return 4.0 * a * ellipe(1.0 - (b / a) ** 2)


@pytest.mark.parametrize("a,b", [(1.0, 1.0), (100.0, 80.0), (150.0, 90.0), (10.0, 4.0)])
def test_ramanujan_matches_exact_perimeter(a, b):
    assert ramanujan_perimeter(a, b) == pytest.approx(exact_perimeter(a, b), rel=1e-5)


def test_ramanujan_of_circle_is_two_pi_r():
    assert ramanujan_perimeter(5.0, 5.0) == pytest.approx(2 * math.pi * 5.0, rel=1e-12)


def angle_difference(a: float, b: float) -> float:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


def phantom_probability(shape, ellipse: Ellipse, rng: np.random.Generator) -> np.ndarray:
    """A noisy probability map at model resolution: blurred head, noise, and a distracting blob."""
    full = draw_filled(shape, ellipse).astype(np.float32)
    full = cv2.GaussianBlur(full, (0, 0), 1.5)
    prob = mask_to_model_space(full)
    prob = np.clip(prob + rng.normal(0, 0.08, prob.shape).astype(np.float32), 0, 1)
    cv2.circle(prob, (12, 12), 4, 1.0, -1)  # a small false positive away from the head
    return prob


@pytest.mark.parametrize("shape,ellipse", [
    ((540, 800), Ellipse(400.0, 270.0, 180.0, 140.0, 0.0)),
    ((540, 800), Ellipse(380.3, 260.7, 150.2, 110.4, 33.0)),
    ((563, 760), Ellipse(350.0, 300.0, 90.0, 70.0, 121.5)),
    ((540, 800), Ellipse(420.0, 250.0, 45.0, 36.0, 75.0)),  # an early-pregnancy head, 90 px wide
    ((300, 300), Ellipse(150.0, 150.0, 100.0, 85.0, 160.0)),
])
def test_phantom_measured_within_half_percent(shape, ellipse):
    rng = np.random.default_rng(0)
    b = measure_head(phantom_probability(shape, ellipse, rng), shape, PixelSpacing(0.3, 0.3, "csv"))
    assert b.hc_px == pytest.approx(ellipse.perimeter, rel=0.005)
    assert b.hc_mm == pytest.approx(ellipse.perimeter * 0.3, rel=0.005)
    assert b.ofd_px == pytest.approx(2 * ellipse.semi_major, rel=0.01)
    assert b.bpd_px == pytest.approx(2 * ellipse.semi_minor, rel=0.01)
    assert abs(b.ellipse.center_x - ellipse.center_x) < 1.0
    assert abs(b.ellipse.center_y - ellipse.center_y) < 1.0
    if ellipse.semi_major / ellipse.semi_minor > 1.1:
        assert angle_difference(b.ellipse.angle_deg, ellipse.angle_deg) < 1.5
    assert b.quality.verdict == "Good", b.quality.flags


def test_anisotropic_pixels_are_measured_in_mm_space():
    """A head of known size in mm, imaged with x and y pixel sizes that differ by 30 %."""
    sx, sy = 0.13, 0.10
    a_mm, b_mm, angle = 28.0, 22.0, 40.0
    true_mm = Ellipse(50.0, 30.0, a_mm, b_mm, angle)
    pixel_ellipse = fit_ellipse(true_mm.sample(720) * np.array([1 / sx, 1 / sy]))  # the same head in pixels
    shape = (600, 800)
    rng = np.random.default_rng(1)
    b = measure_head(phantom_probability(shape, pixel_ellipse, rng), shape, PixelSpacing(sx, sy, "dicom-us-region"))
    assert b.hc_mm == pytest.approx(ramanujan_perimeter(a_mm, b_mm), rel=0.005)
    assert b.ofd_mm == pytest.approx(2 * a_mm, rel=0.01)
    assert b.bpd_mm == pytest.approx(2 * b_mm, rel=0.01)
    # Treating the pixels as square would be several percent off: the test can tell.
    assert abs(b.hc_px * sx - ramanujan_perimeter(a_mm, b_mm)) / ramanujan_perimeter(a_mm, b_mm) > 0.02


def test_cv2_convention_redraws_the_same_ellipse():
    e = Ellipse(200.4, 150.2, 80.0, 50.0, 30.0)
    drawn = np.zeros((300, 400), np.uint8)
    cv2.ellipse(drawn, (200, 150), (80, 50), 30.0, 0, 360, 255, -1)
    mask = draw_filled((300, 400), e)
    overlap = np.logical_and(drawn > 0, mask > 0).sum() / np.logical_or(drawn > 0, mask > 0).sum()
    assert overlap > 0.98


def test_fit_reports_major_axis_angle_when_opencv_swaps_axes():
    e = Ellipse(100.0, 100.0, 60.0, 30.0, 100.0)
    fitted = fit_ellipse(e.sample(200))
    assert fitted.semi_major == pytest.approx(60.0, rel=1e-3)
    assert angle_difference(fitted.angle_deg, 100.0) < 0.1


def test_uncalibrated_measurement_has_no_millimetres():
    shape = (540, 800)
    b = measure_head(phantom_probability(shape, Ellipse(400, 270, 150, 120, 10), np.random.default_rng(2)), shape)
    assert b.hc_mm is None and b.bpd_mm is None and not b.calibrated
    assert b.quality.plausible_size is None
    assert b.hc_px > 0


def test_head_cut_by_border_is_flagged_and_extrapolated():
    shape = (540, 800)
    e = Ellipse(120.0, 270.0, 160.0, 120.0, 0.0)  # left part outside the image
    b = measure_head(phantom_probability(shape, e, np.random.default_rng(3)), shape, PixelSpacing(0.2, 0.2, "csv"))
    assert b.quality.clipped_fraction > 0.1
    assert any("outside the image" in f for f in b.quality.flags)
    assert b.quality.verdict != "Good"
    assert b.hc_px == pytest.approx(e.perimeter, rel=0.02)


def test_implausible_size_is_flagged():
    shape = (540, 800)
    e = Ellipse(400, 270, 200, 150, 0)
    b = measure_head(phantom_probability(shape, e, np.random.default_rng(4)), shape, PixelSpacing(1.0, 1.0, "form"))
    assert b.quality.plausible_size is False
    assert b.quality.verdict == "Poor"


def test_lumpy_region_lowers_confidence():
    shape = (540, 800)
    prob = mask_to_model_space(draw_filled(shape, Ellipse(400, 270, 160, 120, 0)).astype(np.float32))
    cv2.circle(prob, (178, 128), 12, 1.0, -1)  # a bulge on the outline, as when the mask leaks
    b = measure_head(prob, shape)
    assert b.quality.ellipse_iou < 0.95
    assert b.quality.confidence < 0.9
    assert b.quality.verdict != "Good"
    assert any("not elliptical" in f for f in b.quality.flags)


def test_region_that_is_no_skull_is_rejected():
    prob = np.zeros((256, 256), np.float32)
    prob[60:200, 60:120] = 1.0
    prob[60:100, 60:220] = 1.0  # an L shape: nothing like a skull
    with pytest.raises(NoHeadFoundError, match="does not look like a skull"):
        measure_head(prob, (540, 800))


@pytest.mark.parametrize("prob", [np.zeros((256, 256), np.float32), np.full((256, 256), 0.3, np.float32)])
def test_empty_map_raises_no_head_found(prob):
    with pytest.raises(NoHeadFoundError):
        measure_head(prob, (540, 800))


def test_tiny_region_is_not_a_head():
    prob = np.zeros((256, 256), np.float32)
    prob[100:103, 100:103] = 1.0
    with pytest.raises(NoHeadFoundError):
        measure_head(prob, (540, 800))


@pytest.mark.parametrize("seed", range(6))
def test_fill_holes_matches_scipy(seed):
    from scipy import ndimage

    # Random blobs with holes of every shape, some touching the border, some joined only diagonally.
    rng = np.random.default_rng(seed)
    mask = ndimage.gaussian_filter(rng.random((96, 128)), 2.0) > 0.5
    expected = ndimage.binary_fill_holes(mask)
    assert expected.sum() > mask.sum()  # the case has holes to fill
    np.testing.assert_array_equal(fill_holes(mask), expected)
