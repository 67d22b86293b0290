"""Gestational age from head circumference by the Hadlock (1984) regression.

Source:
    Hadlock FP, Deter RL, Harrist RB, Park SK. Estimating fetal age: computer-assisted
    analysis of multiple fetal growth parameters. Radiology 1984;152(2):497-501.
    doi:10.1148/radiology.152.2.6739822

    GA (weeks) = 8.96 + 0.540 * HC + 0.0003 * HC^3, with HC in cm.

The formula is used for HC 6.8 to 36.0 cm (68 to 360 mm) and nowhere else: the study
measured 361 fetuses between 14 and 42 menstrual weeks, so a value outside that range
would be an extrapolation of a cubic, which diverges quickly.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from fetalhc.numbers import LENGTH_DIGITS, rounded

SOURCE = "Hadlock FP et al. Radiology 1984;152:497-501"

HC_MIN_MM = 68.0
HC_MAX_MM = 360.0

# The +/-2 SD variability of the HC-based age estimate, by gestational-age interval
# (upper bound exclusive). These are the values as tabulated from the Hadlock (1984)
# table in ultrasound reference texts (e.g. Callen's Ultrasonography in Obstetrics and
# Gynecology); the original table could not be retrieved to check them digit by digit.
# The last interval nominally ends at 42 weeks; it also covers the few tenths of a week
# above 42 that the formula gives near the 360 mm limit.
_SD2_BY_GA_INTERVAL: tuple[tuple[float, float], ...] = (
    (18.0, 1.19),  # 12-18 weeks
    (24.0, 1.48),  # 18-24 weeks
    (30.0, 2.06),  # 24-30 weeks
    (36.0, 2.98),  # 30-36 weeks
    (math.inf, 2.70),  # 36-42 weeks
)


def format_weeks_days(weeks: float) -> str:
    """Write a gestational age as clinicians read it, e.g. 20.02 -> "20w 0d".

    Rounds to the nearest day rather than truncating: an ultrasound estimate is a point
    estimate, not a count of completed days since the last menstrual period.
    """
    total_days = round(weeks * 7)
    return f"{total_days // 7}w {total_days % 7}d"


def number_text(value: float, limit: float, digits: int = 1) -> str:
    """``digits`` decimals, or more where those would print a value equal to ``limit``
    (so "67.95 mm is below 68 mm" never reads as "68.0 mm is below 68 mm"). An HC takes the
    result record's decimals (LENGTH_DIGITS), so a reason quotes the HC the page shows."""
    for more in range(3):
        text = f"{value:.{digits + more}f}"
        if float(text) != limit:
            return text
    return repr(value)


class ClinicalEstimate:
    """What the clinical answers share: either values, or ``reason`` saying why there are none,
    their gestational age as text, and their plain form (method, source, rounded values)."""

    METHOD: ClassVar[str]
    SOURCE: ClassVar[str]
    DIGITS: ClassVar[dict[str, int]]            # the decimals each number is reported with
    TEXTS: ClassVar[tuple[str, ...]] = ("ga_text",)
    ga_weeks: float | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return {"method": self.METHOD, "source": self.SOURCE,
                **{k: rounded(v, self.DIGITS[k]) if k in self.DIGITS else v for k, v in values.items()},
                **{name: getattr(self, name) for name in self.TEXTS}}

    @property
    def valid(self) -> bool:
        return self.reason is None

    @property
    def ga_text(self) -> str | None:
        if self.ga_weeks is None or not math.isfinite(self.ga_weeks):
            return None
        return format_weeks_days(self.ga_weeks)


@dataclass(frozen=True)
class HadlockEstimate(ClinicalEstimate):
    """Hadlock (1984) gestational age for one HC; numeric fields are None with a
    ``reason`` when the HC is outside the formula's range."""

    METHOD: ClassVar[str] = "hadlock_1984"
    SOURCE: ClassVar[str] = SOURCE
    DIGITS: ClassVar[dict[str, int]] = {"hc_mm": LENGTH_DIGITS, "ga_weeks": 2, "sd2_weeks": 2, "low_weeks": 2,
                                        "high_weeks": 2}
    TEXTS: ClassVar[tuple[str, ...]] = ("ga_text", "low_text", "high_text")

    hc_mm: float
    ga_weeks: float | None
    sd2_weeks: float | None
    low_weeks: float | None
    high_weeks: float | None
    reason: str | None = None

    @property
    def low_text(self) -> str | None:
        return None if self.low_weeks is None else format_weeks_days(self.low_weeks)

    @property
    def high_text(self) -> str | None:
        return None if self.high_weeks is None else format_weeks_days(self.high_weeks)


def hadlock_ga_from_hc(hc_mm: float) -> HadlockEstimate:
    """Gestational age in weeks, with its +/-2 SD range, from head circumference in mm."""
    reason = _out_of_range_reason(hc_mm)
    if reason is not None:
        return HadlockEstimate(hc_mm, None, None, None, None, reason)
    hc_cm = hc_mm / 10.0
    ga = 8.96 + 0.540 * hc_cm + 0.0003 * hc_cm**3
    sd2 = next(v for upper, v in _SD2_BY_GA_INTERVAL if ga < upper)
    return HadlockEstimate(hc_mm, ga, sd2, ga - sd2, ga + sd2)


def _out_of_range_reason(hc_mm: float) -> str | None:
    if not math.isfinite(hc_mm):
        return "HC is not a finite number, so no gestational age can be given"
    if hc_mm < HC_MIN_MM:
        return (
            f"HC {number_text(hc_mm, HC_MIN_MM, LENGTH_DIGITS)} mm is below the {HC_MIN_MM:.0f} mm lower "
            "limit of the Hadlock (1984) formula"
        )
    if hc_mm > HC_MAX_MM:
        return (
            f"HC {number_text(hc_mm, HC_MAX_MM, LENGTH_DIGITS)} mm is above the {HC_MAX_MM:.0f} mm upper "
            "limit of the Hadlock (1984) formula"
        )
    return None
