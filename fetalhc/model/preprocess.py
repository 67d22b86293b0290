"""The one mapping from a grayscale image to the network's input, shared by training and inference."""
from __future__ import annotations

import cv2
import numpy as np

from fetalhc.model.constants import INPUT_SIZE


def to_model_input(gray: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """``uint8`` (H, W) image -> float32 (size, size) in [0, 1], stretched to a square.

    INTER_AREA averages the 3x downscale instead of aliasing the speckle.
    """
    resized = cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA)
    return resized.astype(np.float32) / 255.0


def mask_to_model_space(mask: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """0/255 mask -> float32 (size, size) fraction of each model pixel covered by the head.

    The soft edge keeps the sub-pixel position of the outline that a binary 256x256 mask loses.
    """
    return cv2.resize(mask.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_AREA)
