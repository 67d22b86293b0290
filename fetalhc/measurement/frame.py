"""Where a network's map lies in the original image: one affine transform for both stages.

Stage 1 sees the whole image stretched to a square; stage 2 sees a square window cut around the
stage-1 ellipse, rotated so that the head's long axis is horizontal. Both are affine maps from
original pixels to map pixels, so the outline found in either map goes back to original
pixels through the same inverse, and the measurement code never needs to know which stage
it measures.

Coordinates are pixel centres, as in ``cv2.warpAffine`` and ``skimage.measure.find_contours``:
pixel (0, 0) covers [-0.5, 0.5] x [-0.5, 0.5].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fetalhc.measurement.geometry import Ellipse

# Below this scale the window is first area-averaged to about its own resolution: warping a
# 3x-downscaled speckle image with bilinear interpolation alone would alias it.
_ANTIALIAS_BELOW = 0.75


def _scale_translate(sx: float, sy: float, tx: float, ty: float) -> np.ndarray:
    return np.array([[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]])


def _resize_matrix(src_w: int, src_h: int, dst_w: int, dst_h: int) -> np.ndarray:
    """The pixel-centre map of ``cv2.resize`` from (src_w, src_h) to (dst_w, dst_h)."""
    fx, fy = dst_w / src_w, dst_h / src_h
    return _scale_translate(fx, fy, 0.5 * fx - 0.5, 0.5 * fy - 0.5)


@dataclass(frozen=True)
class MapFrame:
    """An affine map from original-image pixels to a ``size`` x ``size`` network map."""

    matrix: np.ndarray            # 3x3, original pixel centre -> map pixel centre
    image_shape: tuple[int, int]  # (rows, cols) of the original image
    size: int

    @classmethod
    def whole_image(cls, image_shape: tuple[int, int], size: int) -> "MapFrame":
        """The whole image stretched to ``size`` x ``size`` (the stage-1 input, ``cv2.resize``)."""
        h, w = int(image_shape[0]), int(image_shape[1])
        return cls(_resize_matrix(w, h, size, size), (h, w), size)

    @classmethod
    def around(cls, ellipse: Ellipse, image_shape: tuple[int, int], size: int, margin: float = 1.3,
               shift: tuple[float, float] = (0.0, 0.0), rotation_deg: float = 0.0) -> "MapFrame":
        """A square window of side ``2 * margin * semi_major`` centred on ``ellipse``, its long axis
        horizontal, resampled to ``size`` x ``size``.

        ``shift`` (fractions of the window) and ``rotation_deg`` move the window off the ellipse:
        training uses them to imitate an imperfect stage 1.
        """
        side = 2.0 * margin * max(ellipse.semi_major, 1.0)
        scale = size / side
        theta = math.radians(ellipse.angle_deg + rotation_deg)
        c, s = math.cos(theta), math.sin(theta)
        centre = (size - 1) / 2.0
        to_centre = _scale_translate(1.0, 1.0, -ellipse.center_x, -ellipse.center_y)
        rotate_scale = np.array([[scale * c, scale * s, 0.0], [-scale * s, scale * c, 0.0], [0.0, 0.0, 1.0]])
        place = _scale_translate(1.0, 1.0, centre + shift[0] * size, centre + shift[1] * size)
        return cls(place @ rotate_scale @ to_centre, (int(image_shape[0]), int(image_shape[1])), size)

    @property
    def scale(self) -> float:
        """Map pixels per original pixel along the more compressed axis."""
        return float(min(np.hypot(*self.matrix[0, :2]), np.hypot(*self.matrix[1, :2])))

    def to_map(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) original-pixel points -> map-pixel points."""
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ self.matrix[:2, :2].T + self.matrix[:2, 2]

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) map-pixel points -> original-pixel points."""
        inverse = np.linalg.inv(self.matrix)
        xy = np.asarray(xy, dtype=np.float64)
        return xy @ inverse[:2, :2].T + inverse[:2, 2]

    def extract(self, image: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
        """The map-space view of ``image`` (same dtype), zero outside the image."""
        h, w = image.shape[:2]
        if (h, w) != self.image_shape:
            raise ValueError(f"frame is for an image of {self.image_shape}, got {(h, w)}")
        matrix, source = self.matrix, image
        if self.scale < _ANTIALIAS_BELOW:
            dst_w = max(1, round(w * self.scale))
            dst_h = max(1, round(h * self.scale))
            source = cv2.resize(image, (dst_w, dst_h), interpolation=cv2.INTER_AREA)
            matrix = matrix @ np.linalg.inv(_resize_matrix(w, h, dst_w, dst_h))
        return cv2.warpAffine(source, matrix[:2], (self.size, self.size), flags=interpolation,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
