"""Whether the interval and the verdict can be trusted: coverage, widths, and how well the verdict
separates large errors, each figure with a 95 % confidence interval from a bootstrap by subject."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

LARGE_ERROR_MM = 4.0
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 0


def _flagged(per_image: pd.DataFrame) -> pd.Series:
    return per_image["verdict"] != "Good"


def statistics(per_image: pd.DataFrame) -> dict[str, float]:
    """The figures of one set of images (rows of ``evaluate_table``)."""
    err = per_image["abs_difference_mm"]
    flagged = _flagged(per_image)
    large = err > LARGE_ERROR_MM
    good_err = err[~flagged].mean() if (~flagged).any() else np.nan
    out = {"abs_difference_mm_mean": err.mean(), "abs_difference_mm_p95": np.percentile(err, 95),
           "dice_mean_percent": 100 * per_image["dice"].mean(),
           "flagged_share": flagged.mean(), "large_errors": float(large.sum()),
           "large_errors_flagged": float((large & flagged).sum()),
           "flagged_to_good_error_ratio": (err[flagged].mean() / good_err) if flagged.any() else np.nan}
    if "covered" in per_image and per_image["covered"].notna().any():
        out["coverage"] = per_image["covered"].mean()
        out["interval_width_mm_mean"] = per_image["interval_width_mm"].mean()
        thirds = pd.qcut(per_image["hc_ref_mm"], 3, labels=("small", "middle", "large"))
        for name, group in per_image.groupby(thirds, observed=True):
            out[f"coverage_{name}_third"] = group["covered"].mean()
    return {k: float(v) for k, v in out.items()}


def bootstrap(per_image: pd.DataFrame, statistic: Callable[[pd.DataFrame], dict[str, float]] = statistics,
              draws: int = BOOTSTRAP_DRAWS, seed: int = BOOTSTRAP_SEED) -> dict[str, dict[str, float]]:
    """Each figure with its 95 % percentile interval over ``draws`` resamples of the subjects."""
    by_subject = {s: g for s, g in per_image.groupby("subject")}
    subjects = np.array(sorted(by_subject))
    rng = np.random.default_rng(seed)
    samples = [statistic(pd.concat([by_subject[s] for s in rng.choice(subjects, len(subjects))]))
               for _ in range(draws)]
    point = statistic(per_image)
    return {k: {"value": v, "ci95": [float(np.nanpercentile([s.get(k, np.nan) for s in samples], 2.5)),
                                     float(np.nanpercentile([s.get(k, np.nan) for s in samples], 97.5))]}
            for k, v in point.items()}
