"""The figures that say whether the interval and the verdict can be trusted."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fetalhc.evaluation.trust import bootstrap, statistics


def per_image(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ref = np.linspace(60, 340, n)
    err = rng.normal(0, 1.0, n) * ref / 100
    half = 1.645 * ref / 100
    verdict = np.where(np.abs(err) > 2.5, "Poor", "Good")
    return pd.DataFrame({"subject": [f"{i // 2:03d}" for i in range(n)], "hc_ref_mm": ref,
                         "abs_difference_mm": np.abs(err), "dice": 0.98, "verdict": verdict,
                         "covered": np.abs(err) <= half, "interval_width_mm": 2 * half})


def test_statistics_count_coverage_by_third_and_flagged_large_errors():
    table = per_image()
    s = statistics(table)
    assert s["coverage"] == pytest.approx(table["covered"].mean())
    assert {"coverage_small_third", "coverage_middle_third", "coverage_large_third"} <= set(s)
    large = table["abs_difference_mm"] > 4
    assert s["large_errors"] == large.sum() and s["large_errors_flagged"] == (large & (table["verdict"] != "Good")).sum()
    assert s["flagged_to_good_error_ratio"] > 1.5  # the synthetic verdict flags exactly the large errors


def test_bootstrap_interval_brackets_the_value():
    figures = bootstrap(per_image(), draws=200)
    for name in ("abs_difference_mm_mean", "coverage", "dice_mean_percent"):
        low, high = figures[name]["ci95"]
        assert low <= figures[name]["value"] <= high
    assert figures["abs_difference_mm_mean"]["ci95"][1] > figures["abs_difference_mm_mean"]["ci95"][0]


def test_signal_summary_ranks_a_signal_that_follows_the_error_first():
    from fetalhc.evaluation.signals import summary

    rng = np.random.default_rng(0)
    err = rng.gamma(2.0, 1.0, 60)
    signals = pd.DataFrame({"filename": [f"{i}.png" for i in range(60)], "subject": np.arange(60) // 2,
                            "hc_mm": rng.uniform(60, 340, 60), "follows": err + rng.normal(0, 0.05, 60),
                            "noise": rng.normal(0, 1, 60)})
    signals["hc_ref_mm"] = signals["hc_mm"] + err
    signals["abs_error_mm"], signals["relative_error"] = err, err / signals["hc_mm"]
    table = summary(signals)
    follows = next(line for line in table.splitlines() if line.startswith("| follows "))
    assert float(follows.split("|")[2]) > 0.95
    assert "mean abs error by third of reference HC" in table
