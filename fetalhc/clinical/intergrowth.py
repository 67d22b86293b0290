"""INTERGROWTH-21st head circumference standard and HC-based dating.

Head circumference for gestational age (14+0 to 40+0 weeks), HC in mm, GA in exact weeks:
    Papageorghiou AT, Ohuma EO, Altman DG, et al. International standards for fetal
    growth based on serial ultrasound measurements: the Fetal Growth Longitudinal Study
    of the INTERGROWTH-21st Project. Lancet 2014;384(9946):869-879.
    doi:10.1016/S0140-6736(14)61490-2

    mean(GA) = -28.2849 + 1.69267 GA^2 - 0.397485 GA^2 ln(GA)
    SD(GA)   = 1.98735 + 0.0136772 GA^3 - 0.00726264 GA^3 ln(GA)
               + 0.000976253 GA^3 ln(GA)^2

    HC is normally distributed about the mean at each GA, so centiles are mean + z SD.

Gestational age from head circumference alone:
    Papageorghiou AT, Kemp B, Stones W, et al. Ultrasound-based gestational-age
    estimation in late pregnancy. Ultrasound Obstet Gynecol 2016;48(6):719-726.
    doi:10.1002/uog.15894

    GA (days) = exp(0.05970 ln(HC)^2 + 0.000000006409 HC^3 + 3.3258), HC in mm.

    The equation was fitted on one randomly chosen scan per woman from the Fetal Growth
    Longitudinal Study, whose scans ran from 14 weeks to birth. An estimate is given only
    when it falls within 14+0 to 40+0 weeks, the span of the fetal growth standard; the
    HC limits below are that span mapped through the equation. The GIGS package
    (lshtm-gigs/gigs, ig_fet_estimate_ga) documents the HC-only equation for scans taken
    98 to 181 days (14+0 to 25+6 weeks) after the last menstrual period; HC varies more
    between fetuses as pregnancy advances, so late estimates are less certain.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import ClassVar

from fetalhc.numbers import LENGTH_DIGITS

from .hadlock import ClinicalEstimate, format_weeks_days, number_text

GROWTH_SOURCE = "Papageorghiou AT et al. Lancet 2014;384:869-879 (INTERGROWTH-21st)"
DATING_SOURCE = (
    "Papageorghiou AT et al. Ultrasound Obstet Gynecol 2016;48:719-726 (INTERGROWTH-21st)"
)

GA_MIN_WEEKS = 14.0
GA_MAX_WEEKS = 40.0

_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class HcCentile(ClinicalEstimate):
    """Where one HC lies on the INTERGROWTH-21st standard at a known gestational age."""

    METHOD: ClassVar[str] = "intergrowth21_hc_standard"
    SOURCE: ClassVar[str] = GROWTH_SOURCE
    DIGITS: ClassVar[dict[str, int]] = {"hc_mm": LENGTH_DIGITS, "ga_weeks": 2, "z": 2, "centile": 1, "mean_mm": 1, "sd_mm": 2}

    hc_mm: float
    ga_weeks: float
    z: float | None
    centile: float | None  # 0-100
    mean_mm: float | None
    sd_mm: float | None
    classification: str | None
    reason: str | None = None


@dataclass(frozen=True)
class IntergrowthGaEstimate(ClinicalEstimate):
    """INTERGROWTH-21st gestational age estimated from HC alone."""

    METHOD: ClassVar[str] = "intergrowth21_ga_from_hc"
    SOURCE: ClassVar[str] = DATING_SOURCE
    DIGITS: ClassVar[dict[str, int]] = {"hc_mm": LENGTH_DIGITS, "ga_days": 1, "ga_weeks": 2}

    hc_mm: float
    ga_days: float | None
    ga_weeks: float | None
    reason: str | None = None


def hc_centile(hc_mm: float, ga_weeks: float, refused: str | None = None) -> HcCentile:
    """z-score, centile and clinical category of ``hc_mm`` at ``ga_weeks``; none, with ``refused`` as the
    reason, when the caller already knows the HC cannot be placed."""
    reason = refused or _ga_reason(ga_weeks)
    if reason is None and not (math.isfinite(hc_mm) and hc_mm > 0):
        reason = "HC must be a positive number of millimetres to place it on a centile chart"
    if reason is not None:
        return HcCentile(hc_mm, ga_weeks, None, None, None, None, None, reason)
    mean, sd = _hc_mean_sd(ga_weeks)
    z = (hc_mm - mean) / sd
    centile = 100 * _STANDARD_NORMAL.cdf(z)
    return HcCentile(hc_mm, ga_weeks, z, centile, mean, sd, _classify(centile))


def hc_at_centile(ga_weeks: float, centile: float) -> float:
    """The HC (mm) at ``centile`` (between 0 and 100) of the standard at ``ga_weeks`` (14 to 40): the
    curves of the growth chart. Raises ValueError outside the standard's span."""
    reason = _ga_reason(ga_weeks)
    if reason is not None:
        raise ValueError(reason)
    if not 0 < centile < 100:
        raise ValueError(f"A centile lies between 0 and 100, not {centile:g}")
    mean, sd = _hc_mean_sd(ga_weeks)
    return mean + _STANDARD_NORMAL.inv_cdf(centile / 100) * sd


def ga_from_hc(hc_mm: float) -> IntergrowthGaEstimate:
    """Gestational age from HC in mm, only where it falls within 14+0 to 40+0 weeks."""
    if not math.isfinite(hc_mm) or hc_mm <= 0:
        reason = "HC must be a positive number of millimetres to estimate gestational age"
        return IntergrowthGaEstimate(hc_mm, None, None, reason)
    if hc_mm < HC_MIN_FOR_DATING_MM:
        reason = _dating_reason(hc_mm, "below", HC_MIN_FOR_DATING_MM, "14+0")
        return IntergrowthGaEstimate(hc_mm, None, None, reason)
    if hc_mm > HC_MAX_FOR_DATING_MM:
        reason = _dating_reason(hc_mm, "above", HC_MAX_FOR_DATING_MM, "40+0")
        return IntergrowthGaEstimate(hc_mm, None, None, reason)
    days = _ga_days_from_hc(hc_mm)
    return IntergrowthGaEstimate(hc_mm, days, days / 7)


def _hc_mean_sd(ga: float) -> tuple[float, float]:
    log_ga = math.log(ga)
    mean = -28.2849 + 1.69267 * ga**2 - 0.397485 * ga**2 * log_ga
    sd = (
        1.98735
        + 0.0136772 * ga**3
        - 0.00726264 * ga**3 * log_ga
        + 0.000976253 * ga**3 * log_ga**2
    )
    return mean, sd


def _ga_days_from_hc(hc_mm: float) -> float:
    log_hc = math.log(hc_mm)
    return math.exp(0.05970 * log_hc**2 + 0.000000006409 * hc_mm**3 + 3.3258)


def _hc_for_ga_days(target_days: float) -> float:
    # The dating equation increases monotonically with HC, so bisection inverts it; 60
    # halvings of a 1-1000 mm bracket leave an error far below a micrometre.
    low, high = 1.0, 1000.0
    for _ in range(60):
        mid = (low + high) / 2
        if _ga_days_from_hc(mid) < target_days:
            low = mid
        else:
            high = mid
    return (low + high) / 2


HC_MIN_FOR_DATING_MM = _hc_for_ga_days(GA_MIN_WEEKS * 7)
HC_MAX_FOR_DATING_MM = _hc_for_ga_days(GA_MAX_WEEKS * 7)


def _ga_reason(ga_weeks: float) -> str | None:
    if not math.isfinite(ga_weeks):
        return "Gestational age is not a finite number, so no HC centile can be given"
    if ga_weeks < GA_MIN_WEEKS:
        return (
            f"Gestational age {number_text(ga_weeks, GA_MIN_WEEKS)} weeks is before 14+0 "
            "weeks, where the INTERGROWTH-21st fetal head circumference standard begins"
        )
    if ga_weeks > GA_MAX_WEEKS:
        return (
            f"Gestational age {number_text(ga_weeks, GA_MAX_WEEKS)} weeks is after 40+0 "
            "weeks, where the INTERGROWTH-21st fetal head circumference standard ends"
        )
    return None


def _dating_reason(hc_mm: float, side: str, limit_mm: float, ga_bound: str) -> str:
    limit_text = f"{limit_mm:.1f}"
    return (
        f"HC {number_text(hc_mm, float(limit_text), LENGTH_DIGITS)} mm is {side} {limit_text} mm, the HC "
        f"at which the INTERGROWTH-21st (2016) dating formula reaches {ga_bound} weeks; it "
        "is not used outside 14+0 to 40+0 weeks"
    )


def _classify(centile: float) -> str:
    if centile < 3:
        return "below 3rd centile"
    if centile < 10:
        return "below 10th centile"
    if centile > 97:
        return "above 97th centile"
    if centile > 90:
        return "above 90th centile"
    return "normal range"
