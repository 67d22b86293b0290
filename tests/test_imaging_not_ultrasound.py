"""Images that cannot be a fetal ultrasound frame are refused, not measured: other DICOM
modalities, and shapes no scanner makes."""
from __future__ import annotations

import numpy as np
import pytest

from fetalhc.imaging import load_image
from testkit.imaging import WHOLE, load_error, pattern, region
from testkit.samples import dicom_bytes, png_bytes


@pytest.mark.parametrize("modality", ["CT", "MR", "OT", "SC", "", "CT\nFORGED"])
def test_dicom_of_another_modality_is_not_ultrasound(modality: str) -> None:
    err = load_error(dicom_bytes(pattern(), Modality=modality))
    assert err.code == "not_ultrasound" and "ultrasound (US)" in err.message
    assert "\n" not in err.message and "FORGED" not in err.message


@pytest.mark.parametrize("modality", ["US", "OT", "SC"])
def test_ultrasound_and_secondary_capture_with_regions_are_measured(modality: str) -> None:
    img = load_image(dicom_bytes(pattern(), Modality=modality,
                                 SequenceOfUltrasoundRegions=[region(WHOLE, (0.012, 0.012))]))
    assert img.spacing is not None


@pytest.mark.parametrize("width, height", [(2000, 40), (40, 2000), (10000, 16), (700, 100), (63, 63)])
def test_shape_of_no_ultrasound_frame_is_refused(width: int, height: int) -> None:
    err = load_error(png_bytes(np.zeros((height, width), np.uint8)))
    assert err.code == "not_ultrasound" and f"{width}×{height}" in err.message


@pytest.mark.parametrize("width, height", [(600, 100), (64, 64), (100, 600)])
def test_ultrasound_shapes_at_the_limits_load(width: int, height: int) -> None:
    assert load_image(png_bytes(np.zeros((height, width), np.uint8))).width == width


def test_dicom_shape_is_checked_from_the_header() -> None:
    err = load_error(dicom_bytes(np.zeros((20, 400), np.uint8)))
    assert err.code == "not_ultrasound"
