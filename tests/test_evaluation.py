"""Evaluation metrics on synthetic predictions of known error."""
from __future__ import annotations

import math

import numpy as np
import pytest

from fetalhc.evaluation.metrics import ellipse_dice, ellipse_hausdorff_mm, score_image, summary
from fetalhc.measurement import Ellipse


def test_perfect_prediction_scores_zero_error_and_dice_one():
    ref = Ellipse(400, 270, 150, 110, 30)
    s = score_image(ref, ref, (540, 800), 0.12)
    assert s.abs_difference_mm == 0.0
    assert s.dice == 1.0
    assert s.hausdorff_mm == pytest.approx(0.0, abs=1e-9)


def test_shifted_prediction_has_known_hausdorff_and_no_hc_error():
    ref = Ellipse(400, 270, 150, 110, 0)
    moved = Ellipse(405, 270, 150, 110, 0)
    s = score_image(moved, ref, (540, 800), 0.2)
    assert s.abs_difference_mm == pytest.approx(0.0, abs=1e-9)
    assert s.hausdorff_mm == pytest.approx(5 * 0.2, rel=0.02)
    assert s.dice < 1.0


def test_concentric_circles_have_analytic_dice_and_hc_difference():
    inner, outer = Ellipse(300, 300, 90, 90, 0), Ellipse(300, 300, 100, 100, 0)
    expected = 2 * 90**2 / (90**2 + 100**2)
    assert ellipse_dice(inner, outer, (600, 600)) == pytest.approx(expected, abs=0.003)
    assert ellipse_hausdorff_mm(inner, outer, 0.1) == pytest.approx(1.0, rel=1e-3)
    s = score_image(inner, outer, (600, 600), 0.1)
    assert s.difference_mm == pytest.approx(-2 * math.pi * 10 * 0.1, rel=1e-6)


def test_summary_statistics():
    abs_diff = np.array([1.0, 2.0, 3.0, 4.0])
    result = summary(abs_diff, np.array([1.0, -2.0, 3.0, -4.0]), np.array([0.9, 1.0, 0.95, 0.97]), abs_diff)
    assert result["abs_difference_mm"]["mean"] == 2.5
    assert result["abs_difference_mm"]["median"] == 2.5
    assert result["abs_difference_mm"]["sd"] == pytest.approx(np.std(abs_diff, ddof=1), abs=1e-3)
    assert result["difference_mm"]["mean"] == -0.5
    assert result["dice"]["max"] == 1.0
    lo, hi = result["limits_of_agreement_mm"]
    assert lo < -0.5 < hi
