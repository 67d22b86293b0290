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
    # In place on one float copy (float32 stays float32): a 12-megapixel float image takes about
    # 10 bytes a pixel here, not the 50 of a chain of temporary float64 arrays.
    arr = np.array(values, dtype=values.dtype if values.dtype.kind == "f" else np.float64)
    finite = np.isfinite(arr)
    out = np.zeros(arr.shape, dtype=np.uint8)
    if not finite.any():
        return out
    lo = float(arr.min(where=finite, initial=np.inf))
    hi = float(arr.max(where=finite, initial=-np.inf))
    if hi > lo:
        arr[~finite] = lo
        arr -= lo
        arr *= 255.0 / (hi - lo)
        np.rint(arr, out=arr)
        np.clip(arr, 0, 255, out=arr)
        out[...] = arr
        out[~finite] = 0
    return out


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma, the same weights Pillow uses for RGB -> L, as float64.

    Computed a band of rows at a time: a float64 copy of all three channels would take 24 bytes
    a pixel."""
    out = np.empty(rgb.shape[:2], dtype=np.float64)
    for y in range(0, rgb.shape[0], 256):
        band = rgb[y:y + 256, :, :3].astype(np.float64)
        out[y:y + 256] = band[..., 0] * 0.299 + band[..., 1] * 0.587 + band[..., 2] * 0.114
    return out
