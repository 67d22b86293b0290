"""Pixel spacing from a DICOM file: the ultrasound region calibration, else Pixel Spacing."""
from __future__ import annotations

import math

from pydicom.dataset import Dataset

from fetalhc.imaging.types import PixelSpacing

# Ultrasound pixels are a fraction of a millimetre: a file's calibration outside this range is a
# mis-encoded value (a 1e-6 mm spacing would report a 0 mm head) and is ignored. The web form
# accepts the same range for a typed pixel size.
MIN_SPACING_MM = 0.01
MAX_SPACING_MM = 2.0

_US_REGION_2D_TISSUE = 1
_US_UNITS_CM = 3


def dicom_spacing(ds: Dataset, shape: tuple[int, ...]) -> PixelSpacing | None:
    """Ultrasound region calibration first, then Pixel Spacing; unusable values are ignored."""
    rows, cols = shape
    try:
        from_region = _us_region_spacing(ds, rows, cols)
    except Exception:  # a malformed optional sequence must not cost the image
        from_region = None
    if from_region is not None:
        return from_region
    try:
        row_mm, col_mm = (float(v) for v in ds.get("PixelSpacing") or ())
    except Exception:
        return None
    return _valid_spacing(col_mm, row_mm, "dicom-pixel-spacing")


def _us_region_spacing(ds: Dataset, rows: int, cols: int) -> PixelSpacing | None:
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


def _valid_spacing(x_mm: float, y_mm: float, source: str) -> PixelSpacing | None:
    for v in (x_mm, y_mm):
        if not (math.isfinite(v) and MIN_SPACING_MM <= v <= MAX_SPACING_MM):
            return None
    return PixelSpacing(x_mm=x_mm, y_mm=y_mm, source=source)
