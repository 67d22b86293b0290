"""Pixel spacing of DICOM uploads: ultrasound regions, Pixel Spacing, and implausible values."""
from __future__ import annotations

import numpy as np
import pytest

from fetalhc.imaging import PixelSpacing, load_image
from testkit.imaging import ROWS, WHOLE, assert_pattern, pattern, region
from testkit.samples import dicom_bytes


def test_dicom_us_region_in_cm() -> None:
    img = load_image(dicom_bytes(pattern(), SequenceOfUltrasoundRegions=[region(WHOLE, (0.012, 0.012))]))
    assert img.format == "dicom"
    assert_pattern(img)
    assert img.spacing == PixelSpacing(pytest.approx(0.12), pytest.approx(0.12), "dicom-us-region")
    assert img.spacing.is_isotropic


def test_dicom_region_containing_centre_wins_over_larger() -> None:
    regions = [
        region((0, 0, 30, ROWS - 1), (0.05, 0.05)),  # largest, but left of the centre
        region((35, 20, 50, 40), (0.01, -0.012)),  # contains (40, 32)
        region(WHOLE, (0.3, 0.3), spatial=3),  # Doppler, not tissue
    ]
    img = load_image(dicom_bytes(pattern(), SequenceOfUltrasoundRegions=regions))
    assert img.spacing.source == "dicom-us-region"
    assert (img.spacing.x_mm, img.spacing.y_mm) == pytest.approx((0.1, 0.12))


def test_dicom_largest_region_when_none_contains_centre() -> None:
    regions = [region((0, 0, 10, 10), (0.05, 0.05)), region((0, 0, 30, 60), (0.02, 0.02))]
    img = load_image(dicom_bytes(pattern(), SequenceOfUltrasoundRegions=regions))
    assert (img.spacing.x_mm, img.spacing.y_mm) == pytest.approx((0.2, 0.2))


def test_dicom_region_not_in_cm_falls_back_to_pixel_spacing() -> None:
    regions = [region(WHOLE, (0.012, 0.012), units=4)]
    img = load_image(dicom_bytes(pattern(), SequenceOfUltrasoundRegions=regions, PixelSpacing=[0.2, 0.15]))
    assert img.spacing == PixelSpacing(pytest.approx(0.15), pytest.approx(0.2), "dicom-pixel-spacing")
    assert load_image(dicom_bytes(pattern(), SequenceOfUltrasoundRegions=regions)).spacing is None


def test_dicom_pixel_spacing_is_row_then_column() -> None:
    img = load_image(dicom_bytes(pattern(), PixelSpacing=[0.2, 0.15]))
    assert img.spacing == PixelSpacing(pytest.approx(0.15), pytest.approx(0.2), "dicom-pixel-spacing")
    assert not img.spacing.is_isotropic


def test_dicom_without_calibration() -> None:
    img = load_image(dicom_bytes(pattern()))
    assert img.spacing is None
    assert np.array_equal(img.pixels, pattern())  # 8-bit MONOCHROME2 is not rescaled


@pytest.mark.parametrize(
    "attrs",
    [
        {"PixelSpacing": [0.0, 0.1]},
        {"PixelSpacing": [-0.1, 0.1]},
        {"PixelSpacing": [10.0, 10.0]},
        {"SequenceOfUltrasoundRegions": [region(WHOLE, (0.0, 0.012))]},
        {"SequenceOfUltrasoundRegions": [region(WHOLE, (float("nan"), 0.012))]},
        {"SequenceOfUltrasoundRegions": [region(WHOLE, (1.0, 1.0))]},  # 10 mm/pixel
    ],
)
def test_dicom_implausible_spacing_is_ignored(attrs: dict) -> None:
    assert load_image(dicom_bytes(pattern(), **attrs)).spacing is None


@pytest.mark.parametrize("attrs, says", [
    ({"SequenceOfUltrasoundRegions": [region(WHOLE, (0.001, 0.2))]}, "0.01 x 2 mm"),  # HC 1207 mm before
    ({"SequenceOfUltrasoundRegions": [region(WHOLE, (0.0015, 0.0015))]}, "0.02 to 1 mm"),  # 0.015 mm
    ({"PixelSpacing": [1.2, 1.2]}, "0.02 to 1 mm"),
    ({"PixelSpacing": [0.3, 0.1]}, "1.5 times"),  # plausible sizes, but 1:3
])
def test_implausible_calibration_falls_back_to_pixels_and_says_why(attrs: dict, says: str) -> None:
    img = load_image(dicom_bytes(pattern(), **attrs))
    assert img.spacing is None
    assert says in img.calibration_note and "in pixels" in img.calibration_note


def test_plausible_calibration_has_no_note() -> None:
    img = load_image(dicom_bytes(pattern(), PixelSpacing=[0.2, 0.15]))
    assert img.spacing is not None and img.calibration_note is None
    assert load_image(dicom_bytes(pattern())).calibration_note is None


def test_dicom_bad_region_falls_back_to_pixel_spacing() -> None:
    regions = [region(WHOLE, (0.0, 0.0))]
    img = load_image(dicom_bytes(pattern(), SequenceOfUltrasoundRegions=regions, PixelSpacing=[0.1, 0.1]))
    assert img.spacing.source == "dicom-pixel-spacing"
