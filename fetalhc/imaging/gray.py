"""Reduction of decoded pixels to 8-bit grayscale."""
from __future__ import annotations

import numpy as np


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Stretch the image's own min..max to 0..255; a constant image becomes black."""
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2 and values.size:
        # 8- and 16-bit images go through a table of their levels, with the same result and no
        # floating-point copies of the image: a 36-megapixel 16-bit PNG of 0.5 MB would otherwise
        # take 1.3 GB and 3 s.
        lo, hi = int(values.min()), int(values.max())
        return _stretch(np.arange(lo, hi + 1))[values - lo]
    return _stretch(values)


def _stretch(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    out = np.zeros(arr.shape, dtype=np.uint8)
    if not finite.any():
        return out
    lo = float(arr[finite].min())
    hi = float(arr[finite].max())
    if hi > lo:
        scaled = (arr[finite] - lo) * (255.0 / (hi - lo))
        out[finite] = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return out


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma, the same weights Pillow uses for RGB -> L."""
    rgb = rgb[..., :3].astype(np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
