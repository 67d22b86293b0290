"""Pixel spacing from a DICOM file: the ultrasound region calibration, else Pixel Spacing.

A calibration outside what an ultrasound scanner produces is not used: the image is measured
in pixels, and the reason is returned with it so the answer can say why.
"""
from __future__ import annotations

import math

from pydicom.dataset import Dataset

from fetalhc.imaging.types import PixelSpacing

# Ultrasound pixels are a fraction of a millimetre (HC18: 0.05 to 0.3 mm): a file's calibration
# outside this range is a mis-encoded value (0.01 x 2 mm pixels gave an HC of 1207 mm) and is not
# used. Nor are pixels more than 1.5 times as long as they are wide: B-mode frames are scan-converted
# to nearly square pixels.
MIN_SPACING_MM = 0.02
MAX_SPACING_MM = 1.0
MAX_SPACING_RATIO = 1.5

_US_REGION_2D_TISSUE = 1
_US_UNITS_CM = 3


def dicom_spacing(ds: Dataset, shape: tuple[int, ...]) -> tuple[PixelSpacing | None, str | None]:
    """Ultrasound region calibration first, then Pixel Spacing; unusable values are ignored.

    Returns the spacing, or None with the reason a calibration found in the file was not used
    (None when the file has none).
    """
    rows, cols = shape
    try:
        from_region = _us_region_spacing(ds, rows, cols)
    except Exception:  # a malformed optional sequence must not cost the image
        from_region = None
    if isinstance(from_region, PixelSpacing):
        return from_region, None
    try:
        row_mm, col_mm = (float(v) for v in ds.get("PixelSpacing") or ())
    except Exception:
        return None, from_region
    spacing = _valid_spacing(col_mm, row_mm, "dicom-pixel-spacing")
    return (spacing, None) if isinstance(spacing, PixelSpacing) else (None, from_region or spacing)


def _us_region_spacing(ds: Dataset, rows: int, cols: int) -> PixelSpacing | str | None:
    regions = [
        r for r in ds.get("SequenceOfUltrasoundRegions") or ()
        if r.get("RegionSpatialFormat") == _US_REGION_2D_TISSUE
    ]
    if not regions:
        return None

    boxes = [
        (
            float(r.RegionLocationMinX0),
            float(r.RegionLocationMinY0),
            float(r.RegionLocationMaxX1),
            float(r.RegionLocationMaxY1),
        )
        for r in regions
    ]
    cx, cy = cols / 2, rows / 2
    central = [i for i, (x0, y0, x1, y1) in enumerate(boxes) if x0 <= cx <= x1 and y0 <= cy <= y1]

    def area(i: int) -> float:
        x0, y0, x1, y1 = boxes[i]
        return (x1 - x0) * (y1 - y0)

    region = regions[max(central or range(len(regions)), key=area)]
    if (
        region.get("PhysicalUnitsXDirection") != _US_UNITS_CM
        or region.get("PhysicalUnitsYDirection") != _US_UNITS_CM
    ):
        return None
    return _valid_spacing(
        10.0 * abs(float(region.PhysicalDeltaX)),
        10.0 * abs(float(region.PhysicalDeltaY)),
        "dicom-us-region",
    )


def _valid_spacing(x_mm: float, y_mm: float, source: str) -> PixelSpacing | str:
    """The spacing, or why it is not plausible for ultrasound."""
    what = "ultrasound region" if source == "dicom-us-region" else "Pixel Spacing"
    if not all(math.isfinite(v) and MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in (x_mm, y_mm)):
        shown = f"{x_mm:.4g} x {y_mm:.4g} mm" if all(math.isfinite(v) for v in (x_mm, y_mm)) else "not a number"
        return (f"The file's {what} calibration ({shown} per pixel) is outside plausible ultrasound pixel "
                f"sizes ({MIN_SPACING_MM:g} to {MAX_SPACING_MM:g} mm per pixel) and was not used; the result "
                "is in pixels. Enter the pixel size to measure in millimetres.")
    if max(x_mm, y_mm) > MAX_SPACING_RATIO * min(x_mm, y_mm):
        return (f"The file's {what} calibration ({x_mm:.4g} x {y_mm:.4g} mm per pixel) has pixels more than "
                f"{MAX_SPACING_RATIO:g} times as long as wide, which no ultrasound frame has, and was not used; "
                "the result is in pixels. Enter the pixel size to measure in millimetres.")
    return PixelSpacing(x_mm=x_mm, y_mm=y_mm, source=source)
