"""Clinical formulas checked against published values and hand calculations."""
from __future__ import annotations

import dataclasses
import json
import math

import pytest

from fetalhc.clinical import (
    HadlockEstimate,
    HcCentile,
    IntergrowthGaEstimate,
    format_weeks_days,
    ga_from_hc,
    hadlock_ga_from_hc,
    hc_centile,
)
from fetalhc.clinical.intergrowth import HC_MAX_FOR_DATING_MM, HC_MIN_FOR_DATING_MM

# ---------------------------------------------------------------------------
# Hadlock (1984)
# ---------------------------------------------------------------------------


def test_hadlock_published_value_175mm():
    est = hadlock_ga_from_hc(175)
    assert est.ga_weeks == pytest.approx(20.02, abs=0.01)
    assert est.ga_text == "20w 0d"
    assert est.reason is None and est.valid


def test_hadlock_hand_computed_300mm():
    # 8.96 + 0.54 * 30 + 0.0003 * 30**3 = 8.96 + 16.2 + 8.1 = 33.26 weeks
    est = hadlock_ga_from_hc(300)
    assert est.ga_weeks == pytest.approx(33.26, abs=1e-9)
    # 33.26 weeks lies in the 30-36 week interval: +/-2.98 weeks
    assert est.sd2_weeks == 2.98
    assert est.low_weeks == pytest.approx(33.26 - 2.98)
    assert est.high_weeks == pytest.approx(33.26 + 2.98)


@pytest.mark.parametrize(
    ("hc_mm", "sd2"),
    [
        (68, 1.19),  # 12.73 weeks
        (145, 1.19),  # 8.96 + 7.83 + 0.9146 = 17.70 weeks
        (150, 1.48),  # 8.96 + 8.1 + 1.0125 = 18.07 weeks, just into 18-24
        (175, 1.48),  # 20.02 weeks
        (250, 2.06),  # 8.96 + 13.5 + 4.6875 = 27.15 weeks
        (300, 2.98),  # 33.26 weeks
        (340, 2.70),  # 8.96 + 18.36 + 11.79 = 39.11 weeks
    ],
)
def test_hadlock_sd2_follows_ga_interval(hc_mm, sd2):
    assert hadlock_ga_from_hc(hc_mm).sd2_weeks == sd2


@pytest.mark.parametrize("hc_mm", [68.0, 360.0])
def test_hadlock_range_edges_are_valid(hc_mm):
    est = hadlock_ga_from_hc(hc_mm)
    assert est.valid and est.reason is None
    assert est.ga_weeks is not None


def test_hadlock_range_edge_values():
    # 6.8 cm: 8.96 + 3.672 + 0.0003 * 314.432 = 12.7263 weeks
    assert hadlock_ga_from_hc(68).ga_weeks == pytest.approx(12.7263296)
    # 36.0 cm: 8.96 + 19.44 + 0.0003 * 46656 = 42.3968 weeks
    assert hadlock_ga_from_hc(360).ga_weeks == pytest.approx(42.3968)


@pytest.mark.parametrize(
    ("hc_mm", "words"),
    [
        (67.9, "HC 67.90 mm is below the 68 mm lower limit of the Hadlock (1984) formula"),
        (52.0, "HC 52.00 mm is below the 68 mm lower limit of the Hadlock (1984) formula"),
        (360.1, "HC 360.10 mm is above the 360 mm upper limit of the Hadlock (1984) formula"),
    ],
)
def test_hadlock_out_of_range_is_refused_with_reason(hc_mm, words):
    est = hadlock_ga_from_hc(hc_mm)
    assert not est.valid
    assert est.reason == words
    assert (est.ga_weeks, est.sd2_weeks, est.low_weeks, est.high_weeks) == (None,) * 4
    assert est.ga_text is None


def test_hadlock_reason_never_prints_the_limit_as_the_value():
    assert hadlock_ga_from_hc(67.95).reason.startswith("HC 67.95 mm is below the 68 mm")
    assert hadlock_ga_from_hc(360.04).reason.startswith("HC 360.04 mm is above the 360 mm")
    assert hadlock_ga_from_hc(67.996).reason.startswith("HC 67.996 mm is below the 68 mm")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_hadlock_non_finite_input_is_refused(bad):
    est = hadlock_ga_from_hc(bad)
    assert not est.valid and "not a finite number" in est.reason
    json.dumps(est.to_dict(), allow_nan=False)


def test_hadlock_to_dict_is_rounded_json():
    d = hadlock_ga_from_hc(175).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["ga_weeks"] == 20.02
    assert d["sd2_weeks"] == 1.48
    assert d["low_weeks"] == 18.54 and d["high_weeks"] == 21.5
    assert d["ga_text"] == "20w 0d"
    assert d["hc_mm"] == 175.0
    assert d["reason"] is None
    assert "Hadlock" in d["source"]


def test_hadlock_estimate_is_frozen():
    est = hadlock_ga_from_hc(175)
    assert isinstance(est, HadlockEstimate)
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.ga_weeks = 1.0  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Weeks + days text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weeks", "text"),
    [
        (20.0, "20w 0d"),
        (20.0178, "20w 0d"),
        (20 + 3 / 7, "20w 3d"),
        (20.99, "21w 0d"),  # 146.93 days rounds to 147
        (14 - 1e-12, "14w 0d"),  # floating error must not become 13w 6d
        (27.1147, "27w 1d"),
    ],
)
def test_format_weeks_days(weeks, text):
    assert format_weeks_days(weeks) == text


# ---------------------------------------------------------------------------
# INTERGROWTH-21st HC standard (Lancet 2014)
# ---------------------------------------------------------------------------


def standard(ga: float) -> HcCentile:
    """The standard at ``ga`` as hc_centile reports it: ``mean_mm`` and ``sd_mm`` (the HC is irrelevant)."""
    return hc_centile(200.0, ga)


def test_intergrowth_published_check_20_weeks():
    ref = standard(20)
    assert ref.mean_mm == pytest.approx(172.5, abs=0.05)
    assert ref.sd_mm == pytest.approx(7.44, abs=0.05)


# INTERGROWTH-21st fetal HC z-score table (grow_fetal-zs_hc_table, mm), as extracted from
# the INTERGROWTH-21st PDF in github.com/Yannngn/intergrowth-fetal-growth-csv,
# data/lms/grow_fetal-zs_hc_table_mm_weeks.csv: (-2 SD, 0 SD, +2 SD), rounded to 0.1 mm.
# The 50th centile at 40 weeks is 333.9 mm.
@pytest.mark.parametrize(
    ("ga", "minus2", "median", "plus2"),
    [
        (14, 86.7, 97.9, 109.0),
        (20, 157.6, 172.5, 187.4),
        (30, 259.9, 278.4, 296.9),
        (40, 308.1, 333.9, 359.8),
    ],
)
def test_intergrowth_matches_published_zscore_table(ga, minus2, median, plus2):
    ref = standard(ga)
    # 0.05 for the table's rounding, a hair more for the formula's own rounding
    assert ref.mean_mm == pytest.approx(median, abs=0.06)
    assert ref.mean_mm - 2 * ref.sd_mm == pytest.approx(minus2, abs=0.06)
    assert ref.mean_mm + 2 * ref.sd_mm == pytest.approx(plus2, abs=0.06)


@pytest.mark.parametrize("ga", [14.0, 40.0])
def test_intergrowth_reference_range_edges_are_valid(ga):
    assert standard(ga).valid


@pytest.mark.parametrize(
    ("ga", "fragment"),
    [
        (13.9, "Gestational age 13.9 weeks is before 14+0 weeks"),
        (40.1, "Gestational age 40.1 weeks is after 40+0 weeks"),
        (math.nan, "not a finite number"),
    ],
)
def test_intergrowth_reference_out_of_range(ga, fragment):
    ref = standard(ga)
    assert isinstance(ref, HcCentile)
    assert not ref.valid and fragment in ref.reason
    values = (ref.mean_mm, ref.sd_mm, ref.z, ref.centile, ref.classification)
    assert values == (None,) * 5
    json.dumps(ref.to_dict(), allow_nan=False)


def test_centile_of_mean_is_50():
    ref = standard(25)
    res = hc_centile(ref.mean_mm, 25)
    assert res.z == pytest.approx(0.0, abs=1e-12)
    assert res.centile == pytest.approx(50.0)
    assert res.classification == "normal range"


def test_centile_at_plus_1_8808_sd_is_97():
    ref = standard(33)
    res = hc_centile(ref.mean_mm + 1.8808 * ref.sd_mm, 33)
    assert res.z == pytest.approx(1.8808)
    assert res.centile == pytest.approx(97.0, abs=0.01)


def test_hand_computed_z_at_20_weeks():
    # mean 172.4796, SD 7.4399 at 20 weeks: (180 - 172.4796) / 7.4399 = 1.0108
    res = hc_centile(180, 20)
    assert res.z == pytest.approx(1.0108, abs=1e-3)
    assert res.centile == pytest.approx(84.4, abs=0.1)


@pytest.mark.parametrize(
    ("z", "label"),
    [
        (-2.5, "below 3rd centile"),
        (-1.6, "below 10th centile"),
        (-1.0, "normal range"),
        (0.0, "normal range"),
        (1.0, "normal range"),
        (1.6, "above 90th centile"),
        (2.5, "above 97th centile"),
    ],
)
def test_centile_classification(z, label):
    ref = standard(28)
    res = hc_centile(ref.mean_mm + z * ref.sd_mm, 28)
    assert res.classification == label


@pytest.mark.parametrize("ga", [41.0, math.nan])
def test_centile_refuses_ga_outside_standard(ga):
    res = hc_centile(300, ga)
    assert isinstance(res, HcCentile)
    assert not res.valid
    assert "after 40+0 weeks" in res.reason or "not a finite number" in res.reason
    assert (res.z, res.centile, res.mean_mm, res.sd_mm, res.classification) == (None,) * 5
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize("hc", [0.0, -5.0, math.nan])
def test_centile_refuses_nonsense_hc(hc):
    res = hc_centile(hc, 20)
    assert not res.valid and "positive number" in res.reason
    json.dumps(res.to_dict(), allow_nan=False)


def test_centile_to_dict():
    d = hc_centile(180, 20).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["z"] == 1.01
    assert d["centile"] == 84.4
    assert d["mean_mm"] == 172.5
    assert d["sd_mm"] == 7.44
    assert d["ga_text"] == "20w 0d"
    assert d["classification"] == "normal range"


# ---------------------------------------------------------------------------
# INTERGROWTH-21st dating from HC (Ultrasound Obstet Gynecol 2016)
# ---------------------------------------------------------------------------


def test_ga_from_hc_published_worked_example():
    # HC 250 mm -> 189.8 days: the example from doi:10.1002/uog.15894, also used in the
    # GIGS package's tests (lshtm-gigs/gigs, tests/testthat/test-ig_fet_estimation.R).
    est = ga_from_hc(250)
    assert est.ga_days == pytest.approx(189.8, abs=0.05)
    assert est.ga_weeks == pytest.approx(189.8 / 7, abs=0.01)
    assert est.ga_text == "27w 1d"


def test_ga_from_hc_hand_computed():
    # ln(200) = 5.298317; 0.0597 * 5.298317**2 = 1.675908; 6.409e-9 * 200**3 = 0.051272
    # exp(1.675908 + 0.051272 + 3.3258) = exp(5.052980) = 156.49 days = 22w 2d
    est = ga_from_hc(200)
    assert est.ga_days == pytest.approx(156.49, abs=0.01)
    assert est.ga_text == "22w 2d"


def test_ga_from_hc_round_trip_with_growth_standard():
    mean_20 = standard(20).mean_mm
    est = ga_from_hc(mean_20)
    assert est.ga_weeks == pytest.approx(20.0, abs=1.0)
    # In fact much closer: 140.1 days
    assert est.ga_days == pytest.approx(140.1, abs=0.1)


def test_ga_from_hc_limits_map_to_14_and_40_weeks():
    assert ga_from_hc(HC_MIN_FOR_DATING_MM).ga_days == pytest.approx(98.0, abs=1e-6)
    assert ga_from_hc(HC_MAX_FOR_DATING_MM).ga_days == pytest.approx(280.0, abs=1e-6)
    assert HC_MIN_FOR_DATING_MM == pytest.approx(97.7, abs=0.05)
    assert HC_MAX_FOR_DATING_MM == pytest.approx(346.7, abs=0.05)


@pytest.mark.parametrize(
    ("hc", "fragment"),
    [
        (97.6, "HC 97.60 mm is below 97.7 mm"),
        (346.8, "HC 346.80 mm is above 346.7 mm"),
        (0.0, "positive number"),
        (math.inf, "positive number"),
    ],
)
def test_ga_from_hc_refuses_outside_range(hc, fragment):
    est = ga_from_hc(hc)
    assert isinstance(est, IntergrowthGaEstimate)
    assert not est.valid and fragment in est.reason
    assert (est.ga_days, est.ga_weeks, est.ga_text) == (None, None, None)
    json.dumps(est.to_dict(), allow_nan=False)


def test_ga_from_hc_to_dict():
    d = ga_from_hc(250).to_dict()
    json.dumps(d, allow_nan=False)
    assert d["ga_days"] == 189.8
    assert d["ga_weeks"] == 27.11
    assert d["ga_text"] == "27w 1d"
    assert d["reason"] is None
    assert "Ultrasound Obstet Gynecol 2016" in d["source"]
