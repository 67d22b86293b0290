"""Clinical formulas that turn a head circumference into gestational age or a centile.

Every function returns a frozen dataclass. Outside a formula's validated range the
numeric fields are None and ``reason`` says why in words a clinician can act on; no
formula is ever extrapolated. ``to_dict()`` gives a JSON-ready, rounded form.
"""
from .hadlock import HadlockEstimate, format_weeks_days, hadlock_ga_from_hc
from .intergrowth import (
    HcCentile,
    IntergrowthGaEstimate,
    ga_from_hc,
    hc_centile,
)

__all__ = [
    "HadlockEstimate",
    "HcCentile",
    "IntergrowthGaEstimate",
    "format_weeks_days",
    "ga_from_hc",
    "hadlock_ga_from_hc",
    "hc_centile",
]
