"""Validation the way the product measures: HC in mm from the fitted ellipse, plus Dice."""
from __future__ import annotations

import numpy as np

from fetalhc.imaging.types import PixelSpacing
from fetalhc.measurement import NoHeadFoundError, measure_head


def dice(pred: np.ndarray, target: np.ndarray) -> float:
    """Dice of two masks, each thresholded at 0.5; 1.0 when both are empty."""
    p, t = pred >= 0.5, target >= 0.5
    denom = p.sum() + t.sum()
    return 1.0 if denom == 0 else float(2.0 * np.logical_and(p, t).sum() / denom)


def hc_errors(probs: np.ndarray, table) -> np.ndarray:
    """Absolute HC error (mm) per row; NaN where no head was found."""
    errors = np.full(len(table), np.nan)
    for i, row in enumerate(table.itertuples()):
        spacing = PixelSpacing(row.pixel_size_mm, row.pixel_size_mm, "csv")
        try:
            errors[i] = abs(measure_head(probs[i], (row.height, row.width), spacing).hc_mm - row.hc_mm)
        except NoHeadFoundError:
            pass
    return errors


def summarise(probs: np.ndarray, masks: np.ndarray, table) -> dict[str, float]:
    """Mean/median/p95 absolute HC difference (misses count as the reference HC) and mean Dice."""
    errors = hc_errors(probs, table)
    missed = np.isnan(errors)
    errors = np.where(missed, table["hc_mm"].to_numpy(), errors)
    return {
        "val_hc_mae_mm": float(np.mean(errors)),
        "val_hc_median_mm": float(np.median(errors)),
        "val_hc_p95_mm": float(np.percentile(errors, 95)),
        "val_hc_max_mm": float(np.max(errors)),
        "val_missed": int(missed.sum()),
        "val_dice": float(np.mean([dice(p, m) for p, m in zip(probs, masks)])),
    }
