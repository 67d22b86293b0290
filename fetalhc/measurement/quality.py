"""Quality signals of a measurement, a confidence built from them, and a verdict with reasons.

Every number here is computed from the probability map and the fitted ellipse of the image
at hand: how elliptical the segmented region is (a skull section is), how sure the network is
inside it and along its edge, whether the head leaves the image, and whether its size is
possible for a fetus.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fetalhc.measurement.contour import HeadRegion
from fetalhc.measurement.frame import MapFrame
from fetalhc.measurement.geometry import Ellipse
from fetalhc.numbers import rounded

# Plausible fetal HC: from about 11 weeks (~60 mm) to well past term (~380 mm); HC18 spans 44-346 mm.
PLAUSIBLE_HC_MM = (40.0, 400.0)
CLIPPED_FRACTION_LIMIT = 0.02   # more than 2 % of the ellipse outside the image: part of the head is estimated
MIN_CEPHALIC_INDEX = 60.0       # below this the region is too elongated for a head section
ELLIPTICAL_IOU = 0.95           # a skull section agrees with its fitted ellipse at least this well
GOOD_CONFIDENCE = 0.85
FAIR_CONFIDENCE = 0.60
# Evidence below this means the "head" is a guess on an image without one: a blank frame scores about 0.3 with
# the committed model, while every validation image scores above 0.65. No number is reported.
REJECT_CONFIDENCE = 0.5
# Why an ellipse placed by hand is at best Fair: nothing the app measured says how far to trust it.
PLACED_BY_HAND = ("the ellipse was placed by hand: the model's interval and the network's checks of the image "
                  "do not apply to it")


@dataclass(frozen=True)
class QualitySignals:
    """The map's signals are None for an ellipse placed by hand (:func:`assess_placed`): no map judged it."""

    ellipse_iou: float | None       # region vs its fitted ellipse, in map pixels
    mean_probability: float | None  # mean network probability inside the region
    edge_sharpness: float | None    # 1 = the map jumps from 0 to 1 at the outline, 0 = it hovers at 0.5
    clipped_fraction: float     # share of the ellipse's perimeter outside the image
    plausible_size: bool | None  # None when uncalibrated
    cephalic_index_px: float
    evidence: float | None      # what the image shows: IoU x probability x edge x visible share
    confidence: float | None    # evidence, lowered further for an implausible size or shape
    verdict: str                # "Good", "Fair" or "Poor"
    flags: tuple[str, ...] = field(default=())
    flag_kinds: tuple[str, ...] = field(default=())  # what each flag is about, in the same order

    def flag(self, kind: str) -> str | None:
        """The flag of ``kind`` ("not_elliptical", "unsure", "faint", "clipped", "implausible_size",
        "elongated", "placed_by_hand"), or None when the fit raised none."""
        return dict(zip(self.flag_kinds, self.flags)).get(kind)

    def to_dict(self) -> dict:
        return {
            "ellipse_iou": rounded(self.ellipse_iou, 4),
            "mean_probability": rounded(self.mean_probability, 4),
            "edge_sharpness": rounded(self.edge_sharpness, 4),
            "clipped_fraction": rounded(self.clipped_fraction, 4),
            "plausible_size": self.plausible_size,
            "evidence": rounded(self.evidence, 3),
            "confidence": rounded(self.confidence, 3),
            "verdict": self.verdict,
            "flags": list(self.flags),
        }


def _inside_on_map(ellipse: Ellipse, frame: MapFrame, shape: tuple[int, int]) -> np.ndarray:
    """Which map pixels' centres lie inside ``ellipse`` (original pixels): the ellipse is carried
    into the map by the frame's affine map, so no map pixel is carried back one by one."""
    th = np.radians(ellipse.angle_deg)
    axes = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) @ np.diag(
        [ellipse.semi_major, ellipse.semi_minor])
    to_unit = np.linalg.inv(frame.matrix[:2, :2] @ axes).astype(np.float32)
    cx, cy = frame.to_map(np.array([[ellipse.center_x, ellipse.center_y]]))[0]
    dy = np.arange(shape[0], dtype=np.float32)[:, None] - np.float32(cy)
    dx = np.arange(shape[1], dtype=np.float32)[None, :] - np.float32(cx)
    u = to_unit[0, 0] * dx + to_unit[0, 1] * dy
    v = to_unit[1, 0] * dx + to_unit[1, 1] * dy
    return u * u + v * v <= 1.0


def assess_quality(prob: np.ndarray, region: HeadRegion, ellipse: Ellipse, frame: MapFrame,
                   hc_mm: float | None, threshold: float = 0.5) -> QualitySignals:
    """Signals, confidence and verdict for one measurement on the map ``prob`` seen through ``frame``."""
    h_map, w_map = prob.shape
    inside_ellipse = _inside_on_map(ellipse, frame, prob.shape)
    union = np.logical_or(inside_ellipse, region.mask).sum()
    iou = float(np.logical_and(inside_ellipse, region.mask).sum() / union) if union else 0.0
    mean_prob = float(prob[region.mask].mean())

    # Sharpness along the outline: probability a little inside vs a little outside the ellipse.
    pts = ellipse.sample(180)
    center = np.array([ellipse.center_x, ellipse.center_y])
    step = 2.0 / frame.scale  # about two map pixels, in image pixels
    radial = pts - center
    radial /= np.maximum(np.linalg.norm(radial, axis=1, keepdims=True), 1e-6)

    def sample(points: np.ndarray) -> np.ndarray:
        col, row = np.round(frame.to_map(points)).astype(int).T
        return prob[np.clip(row, 0, h_map - 1), np.clip(col, 0, w_map - 1)]

    in_image = _in_image(pts, frame.image_shape)
    clipped = float(1.0 - in_image.mean())
    if in_image.any():
        inner = sample(pts[in_image] - step * radial[in_image])
        outer = sample(pts[in_image] + step * radial[in_image])
        sharpness = float(np.clip(np.mean(inner - outer), 0.0, 1.0))
    else:
        sharpness = 0.0

    ci = 100.0 * ellipse.semi_minor / ellipse.semi_major
    plausible = _plausible(hc_mm)

    named: dict[str, str] = {}
    if iou < ELLIPTICAL_IOU:
        named["not_elliptical"] = f"segmented region is not elliptical (agreement with fitted ellipse {iou:.0%})"
    if mean_prob < 0.9:
        named["unsure"] = f"the network is unsure of the head region (mean probability {mean_prob:.2f})"
    if sharpness < 0.7:
        named["faint"] = f"the skull outline is faint or ambiguous (edge contrast {sharpness:.2f})"
    named.update(_shape_flags(clipped, hc_mm, ci))
    flags = list(named.values())

    # Each factor is in [0, 1]; a failure in any of them pulls the product down.
    evidence = float(np.clip(iou * mean_prob * (0.5 + 0.5 * sharpness) * (1.0 - min(clipped, 0.5)), 0.0, 1.0))
    confidence = evidence
    if plausible is False:
        confidence *= 0.5
    if ci < MIN_CEPHALIC_INDEX:
        confidence *= 0.8
    confidence = float(np.clip(confidence, 0.0, 1.0))
    if confidence >= GOOD_CONFIDENCE and not flags:
        verdict = "Good"
    elif confidence >= FAIR_CONFIDENCE and plausible is not False:
        verdict = "Fair"
    else:
        verdict = "Poor"
    return QualitySignals(iou, mean_prob, sharpness, clipped, plausible, ci, evidence, confidence, verdict,
                          tuple(flags), tuple(named))


def _in_image(points: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Which of ``points`` (x, y) lie on the image, whose pixel centres are at whole coordinates."""
    h_img, w_img = image_shape
    return ((points[:, 0] >= -0.5) & (points[:, 0] <= w_img - 0.5)
            & (points[:, 1] >= -0.5) & (points[:, 1] <= h_img - 0.5))


def _plausible(hc_mm: float | None) -> bool | None:
    return None if hc_mm is None else bool(PLAUSIBLE_HC_MM[0] <= hc_mm <= PLAUSIBLE_HC_MM[1])


def _shape_flags(clipped: float, hc_mm: float | None, ci: float) -> dict[str, str]:
    """The flags any ellipse on the image can raise, without a map: how much of it lies outside the
    image, a size no fetus has, a shape no head section has."""
    named = {}
    if clipped > CLIPPED_FRACTION_LIMIT:
        named["clipped"] = f"{clipped:.0%} of the head lies outside the image; that part is extrapolated"
    if _plausible(hc_mm) is False:
        named["implausible_size"] = (f"HC {hc_mm:.0f} mm is outside the plausible fetal range "
                                     f"{PLAUSIBLE_HC_MM[0]:.0f}-{PLAUSIBLE_HC_MM[1]:.0f} mm; check the pixel size")
    if ci < MIN_CEPHALIC_INDEX:
        named["elongated"] = f"the fitted ellipse is unusually elongated (ratio {ci:.0f}%); check the plane"
    return named


def assess_placed(ellipse: Ellipse, image_shape: tuple[int, int], hc_mm: float | None) -> QualitySignals:
    """The checks of an ellipse placed by hand on an image of ``image_shape``: those that need no map.
    It is Poor when one of them fails (each is a Poor flag of an automatic fit too), else at best Fair."""
    clipped = float(1.0 - _in_image(ellipse.sample(180), image_shape).mean())
    ci = 100.0 * ellipse.semi_minor / ellipse.semi_major
    named = _shape_flags(clipped, hc_mm, ci)
    verdict = "Poor" if named else "Fair"
    named["placed_by_hand"] = PLACED_BY_HAND
    return QualitySignals(None, None, None, clipped, _plausible(hc_mm), ci, None, None, verdict,
                          tuple(named.values()), tuple(named))
