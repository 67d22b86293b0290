"""Head biometry from a probability map, or from an ellipse placed by hand: ellipse, HC, BPD, OFD, cephalic
index, quality signals."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from fetalhc.imaging.types import PixelSpacing
from fetalhc.measurement.contour import NoHeadFoundError, head_outline
from fetalhc.measurement.frame import MapFrame
from fetalhc.measurement.geometry import Ellipse, fit_ellipse
from fetalhc.measurement.quality import REJECT_CONFIDENCE, QualitySignals, assess_placed, assess_quality


@dataclass(frozen=True)
class Biometry:
    """Measurements of one head. Pixel values always; millimetres only when calibrated."""

    ellipse: Ellipse              # original-image pixels, cv2.ellipse convention
    hc_px: float
    ofd_px: float                 # occipito-frontal diameter = major axis
    bpd_px: float                 # biparietal diameter (outer-outer) = minor axis
    cephalic_index: float         # BPD / OFD x 100 (in mm when calibrated)
    spacing: PixelSpacing | None
    hc_mm: float | None
    ofd_mm: float | None
    bpd_mm: float | None
    quality: QualitySignals
    outline_on_map_border: int = 0  # outline points dropped at the map's edge: the map cut the head

    @property
    def calibrated(self) -> bool:
        return self.spacing is not None


def measure_head(prob: np.ndarray, image_shape: tuple[int, int], spacing: PixelSpacing | None = None,
                 threshold: float = 0.5, frame: MapFrame | None = None,
                 reject_below: float = REJECT_CONFIDENCE) -> Biometry:
    """Fit the head ellipse to ``prob`` and measure it on the original image grid.

    ``frame`` says where the map lies in the image (default: the whole image stretched to the map,
    the stage-1 input).

    With anisotropic pixels the millimetre values come from a second fit in millimetre space:
    an ellipse in pixels is not, after unequal scaling, the ellipse with scaled axes.
    Raises ``NoHeadFoundError`` when nothing head-like is found or the evidence from the image
    is below ``reject_below`` (a coarse first stage passes 0 and leaves the decision to the second).
    """
    if frame is None:
        frame = MapFrame.whole_image(image_shape, prob.shape[0])
    region = head_outline(prob, frame, threshold)
    ellipse = fit_ellipse(region.outline_xy)
    mm = _in_mm(region.outline_xy, spacing)
    quality = assess_quality(prob, region, ellipse, frame, None if mm is None else mm.perimeter, threshold)
    # Judged on the image alone: a wrong pixel size must not turn a visible head into "no head".
    if quality.evidence < reject_below:
        raise NoHeadFoundError(
            f"no fetal head found: the best candidate region does not look like a skull "
            f"(evidence {quality.evidence:.2f}: {'; '.join(quality.flags) or 'weak evidence'})")
    return _lengths(ellipse, mm, spacing, quality, region.n_border_points)


def placed_biometry(ellipse: Ellipse, image_shape: tuple[int, int], spacing: PixelSpacing | None) -> Biometry:
    """The biometry of an ellipse placed by hand (pixels of an image of ``image_shape``), measured as a
    fitted one: its millimetre ellipse is fitted to its own points carried into millimetre space (exact,
    also with anisotropic pixels), and it is judged by the checks that need no network map."""
    mm = _in_mm(ellipse.sample(), spacing)
    return _lengths(ellipse, mm, spacing, assess_placed(ellipse, image_shape, None if mm is None else mm.perimeter))


def _in_mm(points_xy: np.ndarray, spacing: PixelSpacing | None) -> Ellipse | None:
    """The ellipse of ``points_xy`` (pixels) in millimetre space; None when uncalibrated."""
    return None if spacing is None else fit_ellipse(points_xy * np.array([spacing.x_mm, spacing.y_mm]))


def _lengths(ellipse: Ellipse, mm: Ellipse | None, spacing: PixelSpacing | None, quality: QualitySignals,
             outline_on_map_border: int = 0) -> Biometry:
    """HC, OFD, BPD and the cephalic index of ``ellipse`` in pixels and of ``mm``, the same head in
    millimetres (the index from millimetres when calibrated)."""
    hc_mm = ofd_mm = bpd_mm = None
    ci = 100.0 * ellipse.semi_minor / ellipse.semi_major
    if mm is not None:
        hc_mm, ofd_mm, bpd_mm = mm.perimeter, 2 * mm.semi_major, 2 * mm.semi_minor
        ci = 100.0 * mm.semi_minor / mm.semi_major
    return Biometry(ellipse, ellipse.perimeter, 2 * ellipse.semi_major, 2 * ellipse.semi_minor, ci,
                    spacing, hc_mm, ofd_mm, bpd_mm, quality, outline_on_map_border)


def averaged(a: Biometry, b: Biometry) -> Biometry:
    """The mean of two fits of one head: each ellipse parameter averaged (the angle on the half
    circle, the axes matched by direction), lengths averaged; ``b``'s quality signals kept."""
    ea, eb = a.ellipse, b.ellipse
    if abs((ea.angle_deg - eb.angle_deg + 90.0) % 180.0 - 90.0) > 45.0:  # b's long axis is a's short one
        eb = Ellipse(eb.center_x, eb.center_y, eb.semi_minor, eb.semi_major, (eb.angle_deg + 90.0) % 180.0)
    doubled = [math.radians(2 * e.angle_deg) for e in (ea, eb)]
    angle = math.degrees(math.atan2(sum(map(math.sin, doubled)), sum(map(math.cos, doubled)))) / 2 % 180.0
    semi = sorted(((ea.semi_major + eb.semi_major) / 2, (ea.semi_minor + eb.semi_minor) / 2), reverse=True)
    ellipse = Ellipse((ea.center_x + eb.center_x) / 2, (ea.center_y + eb.center_y) / 2, semi[0], semi[1], angle)

    def mean(x: float | None, y: float | None) -> float | None:
        return None if x is None or y is None else (x + y) / 2

    hc_mm, ofd_mm, bpd_mm = mean(a.hc_mm, b.hc_mm), mean(a.ofd_mm, b.ofd_mm), mean(a.bpd_mm, b.bpd_mm)
    ci = 100.0 * (bpd_mm / ofd_mm if bpd_mm is not None else ellipse.semi_minor / ellipse.semi_major)
    return dataclasses.replace(b, ellipse=ellipse, hc_px=ellipse.perimeter, ofd_px=2 * ellipse.semi_major,
                               bpd_px=2 * ellipse.semi_minor, cephalic_index=ci, hc_mm=hc_mm, ofd_mm=ofd_mm,
                               bpd_mm=bpd_mm)
