"""One measurement from decoded image to clinical result: what the app and the CLI both call."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from fetalhc.clinical import (HadlockEstimate, HcCentile, IntergrowthGaEstimate, ga_from_hc,
                              hadlock_ga_from_hc, hc_centile)
from fetalhc.imaging.types import LoadedImage, PixelSpacing
from fetalhc.measurement import Biometry, measure_head
from fetalhc.model.loader import Segmenter


class InvalidParameterError(ValueError):
    """A user-supplied parameter (pixel size, gestational age) is unusable."""


@dataclass(frozen=True)
class Analysis:
    image: LoadedImage
    spacing: PixelSpacing | None
    biometry: Biometry
    hadlock: HadlockEstimate | None       # None when uncalibrated
    intergrowth_ga: IntergrowthGaEstimate | None
    centile: HcCentile | None             # only when a gestational age was given
    seconds: float


def resolve_spacing(image: LoadedImage, pixel_size_mm: float | None) -> PixelSpacing | None:
    """A pixel size typed by the user wins over the file's own calibration."""
    if pixel_size_mm is None:
        return image.spacing
    if not math.isfinite(pixel_size_mm) or not 0.0 < pixel_size_mm <= 5.0:
        raise InvalidParameterError(
            f"pixel size {pixel_size_mm} mm is not usable; enter the size of one pixel in mm "
            "(ultrasound images are typically 0.05 to 0.5 mm per pixel)")
    return PixelSpacing(pixel_size_mm, pixel_size_mm, "form")


def check_ga_weeks(ga_weeks: float | None) -> float | None:
    if ga_weeks is not None and (not math.isfinite(ga_weeks) or not 4.0 <= ga_weeks <= 45.0):
        raise InvalidParameterError(
            f"gestational age {ga_weeks} weeks is not usable; enter weeks between 4 and 45")
    return ga_weeks


def analyse(image: LoadedImage, segmenter: Segmenter, pixel_size_mm: float | None = None,
            ga_weeks: float | None = None) -> Analysis:
    """Segment, measure and interpret one image. Raises ``NoHeadFoundError`` when no head is seen."""
    started = time.perf_counter()
    spacing = resolve_spacing(image, pixel_size_mm)
    ga_weeks = check_ga_weeks(ga_weeks)
    prob = segmenter.predict(image.pixels)
    biometry = measure_head(prob, image.pixels.shape, spacing)
    hadlock = igga = centile = None
    if biometry.hc_mm is not None:
        hadlock = hadlock_ga_from_hc(biometry.hc_mm)
        igga = ga_from_hc(biometry.hc_mm)
        if ga_weeks is not None:
            centile = hc_centile(biometry.hc_mm, ga_weeks)
    return Analysis(image, spacing, biometry, hadlock, igga, centile, time.perf_counter() - started)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def analysis_to_dict(a: Analysis, segmenter: Segmenter) -> dict:
    """The JSON answer of ``POST /`` (and the row of the batch CSV): plain types only."""
    b = a.biometry
    calibrated = b.hc_mm is not None
    hc = b.hc_mm if calibrated else b.hc_px
    e = b.ellipse
    gestational_age = None
    if calibrated:
        gestational_age = {"hadlock": a.hadlock.to_dict(), "intergrowth21": a.intergrowth_ga.to_dict()}
    return {
        "status": "success",
        "circumference": f"{hc:.2f}",
        "circumference_unit": "mm" if calibrated else "px",
        "circumference_mm": _r(b.hc_mm),
        "circumference_px": _r(b.hc_px),
        "calibrated": calibrated,
        "bpd_mm": _r(b.bpd_mm), "ofd_mm": _r(b.ofd_mm),
        "bpd_px": _r(b.bpd_px), "ofd_px": _r(b.ofd_px),
        "cephalic_index": _r(b.cephalic_index, 1),
        "ellipse": {"center_x_px": _r(e.center_x), "center_y_px": _r(e.center_y),
                    "semi_major_px": _r(e.semi_major), "semi_minor_px": _r(e.semi_minor),
                    "angle_deg": _r(e.angle_deg)},
        "pixel_size_mm": None if a.spacing is None else _r(a.spacing.x_mm, 6),
        "pixel_size_y_mm": None if a.spacing is None else _r(a.spacing.y_mm, 6),
        "pixel_size_source": None if a.spacing is None else
        ("form" if a.spacing.source == "form" else "dicom" if a.spacing.source.startswith("dicom") else a.spacing.source),
        "gestational_age": gestational_age,
        "centile": None if a.centile is None else a.centile.to_dict(),
        "confidence": round(b.quality.confidence, 3),
        "image_quality": b.quality.verdict,
        "quality_flags": list(b.quality.flags),
        "quality_signals": b.quality.to_dict(),
        "processing_time": f"{a.seconds:.2f}s",
        "processing_time_ms": round(a.seconds * 1000.0, 1),
        "image": {"width": a.image.width, "height": a.image.height, "format": a.image.format,
                  "frame": a.image.frame, "n_frames": a.image.n_frames},
        "model": {"name": segmenter.name, "version": segmenter.version},
    }
