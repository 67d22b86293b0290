"""From a probability map to the head's outline in original-image pixel coordinates."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from skimage.measure import find_contours

from fetalhc.measurement.frame import MapFrame


class NoHeadFoundError(ValueError):
    """The probability map holds no region that could be a fetal head."""


@dataclass(frozen=True)
class HeadRegion:
    """The largest connected region of the thresholded map, holes filled (map resolution)."""

    mask: np.ndarray        # bool, map resolution
    outline_xy: np.ndarray  # (N, 2) sub-pixel outline in original-image pixels, border points removed
    n_border_points: int    # outline points dropped because they ran along the map's border


def largest_region(prob: np.ndarray, threshold: float = 0.5, min_fraction: float = 0.002) -> np.ndarray:
    """Boolean mask of the largest 8-connected region of ``prob >= threshold``, holes filled."""
    binary = (prob >= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        raise NoHeadFoundError("no region above the threshold: no fetal head found in the image")
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[best, cv2.CC_STAT_AREA] < min_fraction * prob.size:
        raise NoHeadFoundError("the detected region is too small to be a fetal head")
    return fill_holes(labels == best)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with every background area that does not reach the border set: what
    ``scipy.ndimage.binary_fill_holes`` does (4-connected background), with one OpenCV flood fill,
    which is cheaper on the request path."""
    padded = np.pad(mask.astype(np.uint8), 1)
    cv2.floodFill(padded, None, (0, 0), 2, flags=4)  # the outside, reached through the padding
    return padded[1:-1, 1:-1] != 2


def head_outline(prob: np.ndarray, frame: MapFrame, threshold: float = 0.5) -> HeadRegion:
    """Sub-pixel outline of the largest region, mapped to original pixels through ``frame``.

    The iso-contour of the probability itself (restricted to the kept region) places the
    outline between pixels, which matters at 256x256 where one pixel is about 0.5 mm.
    """
    prob = np.asarray(prob, dtype=np.float32)
    if prob.ndim != 2:
        raise ValueError(f"probability map must be 2D, got shape {prob.shape}")
    region = largest_region(prob, threshold)
    # Keep the probability only near the region, force holes to "inside", and pad with zeros
    # so a head cut by the border still gives one closed contour.
    near = cv2.dilate(region.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    field = np.where(near, prob, 0.0)
    field[region & (prob < threshold)] = 1.0  # filled holes only: boundary values stay sub-pixel
    field = np.pad(field, 1)
    contours = find_contours(field, threshold)
    contour = max(contours, key=len) - 1.0  # (row, col) in map pixels, undo padding
    h_map, w_map = prob.shape
    on_border = ((contour[:, 0] < 0) | (contour[:, 0] > h_map - 1)
                 | (contour[:, 1] < 0) | (contour[:, 1] > w_map - 1))
    inner = contour[~on_border]
    if len(inner) < 5:
        raise NoHeadFoundError("the head outline lies almost entirely on the image border")
    return HeadRegion(region, frame.to_image(inner[:, ::-1]), int(on_border.sum()))
