"""The HC18 ellipse-outline annotations: the fitted ellipse and the filled head mask."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fetalhc.measurement.geometry import Ellipse, draw_filled, fit_ellipse

# A mask's HC must reproduce the CSV within this relative error (the HC18 README: ~0.03%).
HC_TOLERANCE = 0.001


@dataclass(frozen=True)
class MaskResult:
    filename: str
    ellipse: Ellipse
    hc_fit_mm: float
    hc_reference_mm: float

    @property
    def relative_error(self) -> float:
        return abs(self.hc_fit_mm - self.hc_reference_mm) / self.hc_reference_mm

    @property
    def verified(self) -> bool:
        return self.relative_error <= HC_TOLERANCE


def outline_ellipse(annotation: np.ndarray) -> Ellipse:
    """Fit an ellipse to the outline pixels of an annotation image.

    Fitting to every outline pixel (not to a traced contour) makes the fit indifferent to gaps
    in the drawn curve and to parts of it cut off by the image border.
    """
    ys, xs = np.nonzero(annotation > 127)
    if len(xs) < 5:
        raise ValueError("annotation has fewer than 5 outline pixels")
    return fit_ellipse(np.stack([xs, ys], axis=1))


def make_mask(annotation: np.ndarray, pixel_size_mm: float, hc_reference_mm: float,
              filename: str = "") -> tuple[np.ndarray, MaskResult]:
    """Filled 0/255 mask of the annotated head plus the check of its HC against the reference."""
    ellipse = outline_ellipse(annotation)
    mask = draw_filled(annotation.shape[:2], ellipse)
    result = MaskResult(filename, ellipse, ellipse.perimeter * pixel_size_mm, hc_reference_mm)
    return mask, result

