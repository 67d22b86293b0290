"""What every image loader returns: pixels plus what is known about their physical size."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PixelSpacing:
    """Physical size of one pixel in millimetres, along x (columns) and y (rows)."""

    x_mm: float
    y_mm: float
    source: str  # "form", "csv", "dicom-us-region", "dicom-pixel-spacing"

    @property
    def is_isotropic(self) -> bool:
        return abs(self.x_mm - self.y_mm) <= 1e-6 * max(self.x_mm, self.y_mm)


@dataclass(frozen=True)
class LoadedImage:
    """A decoded ultrasound frame as 2D grayscale ``uint8`` (rows, columns)."""

    pixels: np.ndarray
    spacing: PixelSpacing | None
    format: str  # "png", "jpeg", "bmp", "tiff", "dicom"
    frame: int = 0
    n_frames: int = 1
    calibration_note: str | None = None  # why the file's own calibration was not used, if it has one

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


@dataclass(frozen=True)
class ImageFacts:
    """What a client says of an image the server does not decode (``POST /ellipse``): its size, and
    what it knows of its format, frame and pixel size. The same attributes as :class:`LoadedImage`
    that a result record reads."""

    width: int
    height: int
    format: str | None = None
    frame: int | None = None
    n_frames: int | None = None
    spacing: PixelSpacing | None = None
    calibration_note: str | None = None


class ImageLoadError(ValueError):
    """An upload or file that cannot be used as an image; ``message`` says what to do.

    ``code`` is a short machine-readable reason: "empty", "not_an_image", "truncated",
    "too_large", "bad_dimensions", "unsupported_dicom", "bad_frame", "not_ultrasound" (the image
    cannot be an ultrasound frame: another DICOM modality, or a shape no scanner makes), and
    "limit_exceeded" (decoding would take more memory or time than one upload may).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
