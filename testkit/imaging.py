"""Inputs and checks of the image decoding tests: a small test pattern whose orientation and
values survive decoding, DICOM regions over it, and the error an input must raise."""
from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from fetalhc.imaging import ImageLoadError, LoadedImage, load_image
from testkit.samples import dicom_compressed, us_region

ROWS, COLS = 64, 80  # not square, so a transposed result cannot pass
WHOLE = (0, 0, COLS - 1, ROWS - 1)  # an ultrasound region covering the whole image


def pattern() -> np.ndarray:
    """Dark gradient background with a bright square in the top-left corner."""
    g = np.tile(np.linspace(20, 90, COLS), (ROWS, 1)).astype(np.uint8)
    g[:16, :16] = 250
    return g


def assert_pattern(img: LoadedImage) -> None:
    px = img.pixels
    assert px.shape == (ROWS, COLS)
    assert px.dtype == np.uint8
    assert px.flags.c_contiguous
    assert px[2:14, 2:14].mean() > 200  # bright square stayed top-left
    assert px[-16:, -16:].mean() < 150
    assert px[-16:, :16].mean() < 150
    assert px[:16, -16:].mean() < 150


def region(box: tuple[int, int, int, int], delta_cm: tuple[float, float], units: int = 3, spatial: int = 1) -> Dataset:
    """An ultrasound region ``box`` of the pattern (see :func:`testkit.samples.us_region`)."""
    return us_region(COLS, ROWS, delta_cm, units, box=box, spatial_format=spatial)


def compressed(transfer_syntax: str) -> bytes:
    """A pattern-sized DICOM whose noise pixel data claims ``transfer_syntax``."""
    return dicom_compressed(transfer_syntax, COLS, ROWS)


def load_error(data: bytes, **kwargs) -> ImageLoadError:
    """The :class:`ImageLoadError` that ``load_image(data, **kwargs)`` must raise."""
    with pytest.raises(ImageLoadError) as err:
        load_image(data, **kwargs)
    return err.value
