"""Per-image and summary metrics of the HC18 challenge (van den Heuvel et al., PLoS ONE 2018).

The challenge compares the submitted ellipse with the annotated one: difference and absolute
difference of HC in mm, Dice of the filled ellipses, and Hausdorff distance of their outlines
in mm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import directed_hausdorff

from fetalhc.measurement.geometry import Ellipse, draw_filled


@dataclass(frozen=True)
class ImageScore:
    hc_pred_mm: float
    hc_ref_mm: float
    dice: float
    hausdorff_mm: float

    @property
    def difference_mm(self) -> float:
        return self.hc_pred_mm - self.hc_ref_mm

    @property
    def abs_difference_mm(self) -> float:
        return abs(self.difference_mm)


def ellipse_dice(pred: Ellipse, ref: Ellipse, shape: tuple[int, int]) -> float:
    """Dice of the two filled ellipses rasterised on the image grid of ``shape``."""
    a, b = draw_filled(shape, pred) > 0, draw_filled(shape, ref) > 0
    denom = a.sum() + b.sum()
    return 1.0 if denom == 0 else float(2.0 * np.logical_and(a, b).sum() / denom)


def ellipse_hausdorff_mm(pred: Ellipse, ref: Ellipse, pixel_size_mm: float, n: int = 2000) -> float:
    """Symmetric Hausdorff distance between the two outlines, densely sampled, in mm."""
    p, r = pred.sample(n), ref.sample(n)
    return float(max(directed_hausdorff(p, r)[0], directed_hausdorff(r, p)[0]) * pixel_size_mm)


def score_image(pred: Ellipse, ref: Ellipse, shape: tuple[int, int], pixel_size_mm: float) -> ImageScore:
    return ImageScore(pred.perimeter * pixel_size_mm, ref.perimeter * pixel_size_mm,
                      ellipse_dice(pred, ref, shape), ellipse_hausdorff_mm(pred, ref, pixel_size_mm))


def summary(abs_diff: np.ndarray, diff: np.ndarray, dice: np.ndarray, hausdorff: np.ndarray) -> dict:
    """Mean +/- SD, median, 95th percentile and max, as the literature reports them."""
    def stats(values: np.ndarray, digits: int = 3) -> dict:
        if len(values) == 0:  # e.g. the Hausdorff distance when no head was found at all
            return dict.fromkeys(("mean", "sd", "median", "p95", "max"))
        return {"mean": round(float(np.mean(values)), digits), "sd": round(float(np.std(values, ddof=1)), digits)
                if len(values) > 1 else 0.0,
                "median": round(float(np.median(values)), digits),
                "p95": round(float(np.percentile(values, 95)), digits),
                "max": round(float(np.max(values)), digits)}

    return {
        "n_images": int(len(abs_diff)),
        "abs_difference_mm": stats(abs_diff),
        "difference_mm": stats(diff),
        "dice": stats(dice, 5),
        "hausdorff_mm": stats(hausdorff),
        "limits_of_agreement_mm": [round(float(np.mean(diff) - 1.96 * np.std(diff, ddof=1)), 3),
                                   round(float(np.mean(diff) + 1.96 * np.std(diff, ddof=1)), 3)]
        if len(diff) > 1 else [math.nan, math.nan],
    }
