"""The second stage's window and the trust figures: geometry, interval, conformal calibration."""
from __future__ import annotations

import math

import numpy as np
import pytest

from fetalhc.measurement import Ellipse, fit_ellipse, measure_head
from fetalhc.measurement.frame import MapFrame
from fetalhc.measurement.geometry import draw_filled
from fetalhc.measurement.uncertainty import Scale, Uncertainty, calibrate, choose_floor, conformal_quantile

SHAPE = (540, 800)
HEADS = [Ellipse(400.0, 270.0, 180.0, 140.0, 0.0), Ellipse(380.3, 260.7, 150.2, 110.4, 33.0),
         Ellipse(420.0, 250.0, 45.0, 36.0, 75.0), Ellipse(700.0, 120.0, 160.0, 130.0, 170.0)]


def _close(a: Ellipse, b: Ellipse, tol_px: float) -> bool:
    turn = abs(a.angle_deg - b.angle_deg) % 180.0
    return (math.hypot(a.center_x - b.center_x, a.center_y - b.center_y) < tol_px
            and abs(a.semi_major - b.semi_major) < tol_px and abs(a.semi_minor - b.semi_minor) < tol_px
            and min(turn, 180.0 - turn) < 0.5)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("shift, rotation", [((0.0, 0.0), 0.0), ((0.05, -0.04), 17.0), ((-0.07, 0.02), 190.0)])
def test_window_and_its_inverse_map_an_ellipse_back_within_a_tenth_of_a_pixel(head, shift, rotation):
    frame = MapFrame.around(head, SHAPE, 256, 1.3, shift, rotation)
    in_window = fit_ellipse(frame.to_map(head.sample(720)))
    assert _close(fit_ellipse(frame.to_image(in_window.sample(720))), head, 0.1)
    # The head is horizontal in the window and fills it: its long axis is 256 / (2 * 1.3) map pixels.
    assert in_window.semi_major == pytest.approx(256 / 2.6, rel=1e-6)


@pytest.mark.parametrize("head", HEADS[:3])
def test_a_head_segmented_in_its_window_is_measured_in_original_pixels(head):
    """The window cut from the image with ``extract`` and measured through its frame gives the head back."""
    frame = MapFrame.around(head, SHAPE, 256, 1.3, (0.03, -0.02), 11.0)
    mask = draw_filled(SHAPE, head).astype(np.float32) / 255.0
    b = measure_head(frame.extract(mask), SHAPE, frame=frame)
    assert b.hc_px == pytest.approx(head.perimeter, rel=0.004)
    assert math.hypot(b.ellipse.center_x - head.center_x, b.ellipse.center_y - head.center_y) < 0.5


def test_whole_image_frame_is_the_resize_of_the_first_stage():
    frame = MapFrame.whole_image(SHAPE, 256)
    corners = np.array([[-0.5, -0.5], [799.5, 539.5]])
    assert np.allclose(frame.to_map(corners), [[-0.5, -0.5], [255.5, 255.5]])


def _errors(rng: np.random.Generator, hc: np.ndarray, disagreement: np.ndarray) -> np.ndarray:
    """Reference HCs whose errors have a 2 mm floor and grow with the stages' disagreement."""
    return hc + np.hypot(2.0, hc * disagreement) * rng.standard_t(5, np.shape(hc))


def test_conformal_quantile_reaches_its_coverage_on_new_errors():
    """Errors of a known spread: the calibrated intervals, in mm and in pixels, cover 90 % of fresh ones."""
    rng = np.random.default_rng(0)
    covered = {"mm": [], "px": []}
    for _ in range(300):
        hc, disagreement = rng.uniform(60, 340, 60), rng.gamma(2.0, 0.006, 60)
        u = calibrate(hc, _errors(rng, hc, disagreement), disagreement, disagreement, floor_mm=2.0, level=0.9)
        new_hc, new_d = rng.uniform(60, 340), rng.gamma(2.0, 0.006)
        new_ref = _errors(rng, new_hc, new_d)
        for name in covered:
            covered[name].append(abs(new_ref - new_hc) <= getattr(u, name).half_width(new_hc, new_d))
    for name, hits in covered.items():
        assert 0.86 <= np.mean(hits) <= 0.95, name


def test_cross_validation_chooses_the_floor_the_errors_have():
    """Errors with a 2 mm floor: a floor near it gives the narrowest intervals, far from it wider ones."""
    rng = np.random.default_rng(1)
    hc, disagreement = rng.uniform(60, 340, 200), rng.gamma(2.0, 0.01, 200)
    subjects = np.arange(200) // 2
    floor, widths = choose_floor(hc, _errors(rng, hc, disagreement), disagreement, subjects, 0.9,
                                 candidates=(0.25, 1.0, 2.0, 4.0, 16.0), draws=50)
    assert floor in (1.0, 2.0, 4.0)
    assert widths[floor] < widths[0.25] and widths[floor] < widths[16.0]


def test_conformal_quantile_is_the_ranked_score_and_refuses_too_few():
    assert conformal_quantile(np.arange(1, 10), 0.9) == 9  # ceil(10 * 0.9) = 9th of 9
    with pytest.raises(ValueError, match="need at least 9"):
        conformal_quantile(np.arange(1, 5), 0.9)


def test_interval_widens_with_disagreement_and_confidence_falls():
    scores = tuple(np.linspace(0.1, 3.0, 30))
    mm = Scale(floor=2.0, relative=False, quantile=1.5, scores=scores)
    assert mm.half_width(100, 0.0) == pytest.approx(3.0)
    assert mm.half_width(200, 0.0) == pytest.approx(3.0)   # the floor is millimetres, whatever the size
    assert mm.half_width(100, 0.03) == pytest.approx(1.5 * math.hypot(2.0, 3.0))
    assert mm.confidence(100, 0.0) > mm.confidence(100, 0.03)
    px = Scale(floor=0.01, relative=True, quantile=2.0, scores=scores)
    assert px.half_width(100, 0.0) == pytest.approx(2.0) and px.half_width(200, 0.0) == pytest.approx(4.0)


def test_uncertainty_round_trips_through_its_file_and_refuses_the_old_format(tmp_path):
    u = calibrate(np.array([100.0] * 20), np.linspace(98, 102, 20), np.full(20, 0.005), np.full(10, 0.005),
                  floor_mm=2.0)
    u.save(tmp_path)
    assert Uncertainty.load(tmp_path) == u
    assert Uncertainty.load(tmp_path / "absent") is None
    (tmp_path / "uncertainty.json").write_text('{"level": 0.9, "floor": 0.01, "quantile": 1.6, "scores": []}')
    with pytest.raises(ValueError, match="older format"):
        Uncertainty.load(tmp_path)


def test_the_mean_of_two_fits_is_their_middle_even_when_their_axes_cross():
    from fetalhc.imaging.types import PixelSpacing
    from fetalhc.measurement.biometry import averaged

    spacing = PixelSpacing(0.2, 0.2, "csv")
    mask_a = draw_filled(SHAPE, Ellipse(400, 270, 150, 140, 2.0)).astype(np.float32) / 255.0
    mask_b = draw_filled(SHAPE, Ellipse(404, 274, 154, 146, 178.0)).astype(np.float32) / 255.0
    frame = MapFrame.whole_image(SHAPE, 256)
    a = measure_head(frame.extract(mask_a), SHAPE, spacing)
    b = measure_head(frame.extract(mask_b), SHAPE, spacing)
    m = averaged(a, b)
    assert m.hc_mm == pytest.approx((a.hc_mm + b.hc_mm) / 2)
    assert m.ellipse.center_x == pytest.approx(402, abs=0.5) and m.ellipse.semi_major == pytest.approx(152, abs=1.5)
    assert min(m.ellipse.angle_deg, 180 - m.ellipse.angle_deg) < 3.0  # not 90: 2 and 178 degrees are 4 apart
    assert m.quality == b.quality
