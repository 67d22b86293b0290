"""The one result record of a measurement: the JSON answer, its schema, the page's rows, the CSV row.

:class:`MeasurementRecord` is defined once here. ``POST /`` answers its JSON form, the
OpenAPI document embeds its generated JSON schema, the page shows its ``summary`` rows (the
server renders them without JavaScript, ``static/app.js`` with it), and a CSV row is its flat
form (:mod:`fetalhc.record_csv`: the page's CSV download, ``POST /batch``'s table, the batch CSV).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

import fetalhc
from fetalhc.numbers import GEOMETRY_DIGITS, fixed, rounded

if TYPE_CHECKING:
    from fetalhc.predictor import Measurement

Verdict = Literal["Good", "Fair", "Poor"]


class _Record(BaseModel):
    # Closed objects: a key the schema does not name is an error, not a silent extra.
    # What is always sent is required in the schema, defaults included.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


class EllipseRecord(_Record):
    center_x_px: float
    center_y_px: float
    semi_major_px: float
    semi_minor_px: float
    angle_deg: float = Field(description="Clockwise rotation of the major axis from the x axis (y down), [0, 180).")


class AutomaticRecord(_Record):
    """The automatic fit that an edited ellipse replaced, measured the same way."""

    ellipse: EllipseRecord
    circumference_mm: float | None
    circumference_px: float
    bpd_mm: float | None
    ofd_mm: float | None
    bpd_px: float
    ofd_px: float
    cephalic_index: float


class HadlockRecord(_Record):
    method: Literal["hadlock_1984"]
    source: str
    hc_mm: float | None
    ga_weeks: float | None
    ga_text: str | None
    sd2_weeks: float | None
    low_weeks: float | None
    high_weeks: float | None
    low_text: str | None
    high_text: str | None
    reason: str | None = Field(description="Why there is no estimate (HC outside 68-360 mm).")


class IntergrowthGaRecord(_Record):
    method: Literal["intergrowth21_ga_from_hc"]
    source: str
    hc_mm: float | None
    ga_days: float | None
    ga_weeks: float | None
    ga_text: str | None
    reason: str | None = Field(description="Why there is no estimate (outside 14+0 to 40+0 weeks).")


class GestationalAgeRecord(_Record):
    hadlock: HadlockRecord
    intergrowth21: IntergrowthGaRecord


class CentileRecord(_Record):
    method: Literal["intergrowth21_hc_standard"]
    source: str
    hc_mm: float | None
    ga_weeks: float | None
    ga_text: str | None
    z: float | None
    centile: float | None = Field(ge=0, le=100)
    mean_mm: float | None
    sd_mm: float | None
    classification: str | None
    reason: str | None


class QualitySignalsRecord(_Record):
    # The network map's signals (IoU, probability, edge, evidence, confidence) are null for an edited ellipse.
    ellipse_iou: float | None
    mean_probability: float | None
    edge_sharpness: float | None
    clipped_fraction: float
    plausible_size: bool | None
    evidence: float | None
    confidence: float | None
    verdict: Verdict
    flags: list[str]


class ImageRecord(_Record):
    width: int
    height: int
    # Null in an answer of POST /ellipse whose request did not say them: it decodes no image.
    format: Literal["png", "jpeg", "bmp", "tiff", "dicom"] | None
    frame: int | None
    n_frames: int | None


class ModelRecord(_Record):
    name: str
    version: str


# How the lengths are obtained; the FHIR and DICOM SR exports quote the same text.
HC_METHOD = ("Ellipse fitted (direct least squares) to the outline of the network's segmentation of the skull; "
             "HC is its perimeter by Ramanujan's second approximation.")
BPD_CONVENTION = "Outer-outer: the minor axis of the fitted ellipse."
OFD_CONVENTION = "Outer-outer: the major axis of the fitted ellipse."


class ProvenanceRecord(_Record):
    app_version: str = Field(description="Version of the fetalhc application that measured.")
    hc_method: Literal[HC_METHOD]
    bpd_convention: Literal[BPD_CONVENTION]
    ofd_convention: Literal[OFD_CONVENTION]
    measured_at: AwareDatetime = Field(description="When the record was made (UTC, ISO 8601).")


AlertCode = Literal["below_3rd_centile", "above_97th_centile", "ga_mismatch", "implausible_size", "poor_quality"]
# An entered gestational age this far from the HC's Hadlock estimate is worth a second look.
GA_MISMATCH_WEEKS = 2.0


class AlertRecord(_Record):
    code: AlertCode
    reason: str


class SummaryRow(_Record):
    label: str
    value: str
    note: bool = Field(description="True when value says why a number is missing.")


class MeasurementRecord(_Record):
    """One measured head, as every client sees it."""

    status: Literal["success"] = "success"
    circumference: str = Field(description="HC with two decimals, in circumference_unit.")
    circumference_unit: Literal["mm", "px"]
    circumference_mm: float | None
    circumference_px: float
    circumference_interval_mm: tuple[float, float] | None = Field(
        description="Calibrated prediction interval [low, high] of the HC in mm, at circumference_interval_level; "
                    "null when uncalibrated or when the model has no calibrated interval.")
    circumference_interval_px: tuple[float, float] | None = Field(
        description="The interval in pixels: the mm interval carried into pixels when calibrated; without a pixel "
                    "size, its own interval with a floor of 1 % of the HC. Null only when the model has no "
                    "calibrated interval.")
    circumference_interval_level: float | None = Field(
        description="Coverage the interval was calibrated for on held-out subjects, e.g. 0.9.")
    stage_disagreement: float | None = Field(
        description="|HC of stage 1 - HC of stage 2| / HC: the measured uncertainty the interval and verdict "
                    "follow (1 when the fine stage saw no head); null with a one-stage model.")
    calibrated: bool = Field(description="False when no pixel size was given or found in the DICOM file.")
    bpd_mm: float | None
    ofd_mm: float | None
    bpd_px: float
    ofd_px: float
    cephalic_index: float = Field(description="BPD / OFD x 100.")
    ellipse: EllipseRecord
    ellipse_source: Literal["automatic", "edited"] = Field(description=(
        "edited: the ellipse was placed by hand (POST /ellipse, or the ellipse field of POST /); it then has no "
        "model interval and no confidence, and its verdict comes from the checks that need no network map."))
    automatic: AutomaticRecord | None = Field(description=(
        "With an edited ellipse, the automatic fit's values; null for an automatic one, and when POST /ellipse "
        "was not sent the automatic ellipse."))
    pixel_size_mm: float | None
    pixel_size_y_mm: float | None
    pixel_size_source: Literal["form", "dicom"] | None
    calibration_note: str | None = Field(
        description="Why the file's own calibration was not used (outside plausible ultrasound pixel sizes); "
                    "null when it was used, when the file has none, or when a pixel size was entered.")
    gestational_age: GestationalAgeRecord | None
    centile: CentileRecord | None = Field(
        description="HC on the INTERGROWTH-21st standard at the given gestational age; null without "
                    "ga_weeks or pixel size.")
    confidence: float | None = Field(ge=0, le=1, description=(
        "With a calibrated interval: the calibrated probability that the HC is within 2 % of an expert's, "
        "halved when a plausibility check fails; else the segmentation's own evidence. Null for an edited "
        "ellipse: nothing measured how far to trust one placed by hand."))
    image_quality: Verdict = Field(description="How far to trust the answer; quality_flags say why.")
    quality_flags: list[str] = Field(description="The reasons for the verdict (empty when Good).")
    alerts: list[AlertRecord] = Field(description=(
        "What a clinician must not miss: an HC below the 3rd or above the 97th centile, an entered gestational "
        f"age more than {GA_MISMATCH_WEEKS:g} weeks from the HC's Hadlock estimate, an implausible size, a Poor "
        "verdict. Empty when none applies."))
    quality_signals: QualitySignalsRecord
    processing_time: str = Field(examples=["0.41s"])
    processing_time_ms: float = Field(description="Decoding and analysis, in milliseconds.")
    image: ImageRecord
    model: ModelRecord
    provenance: ProvenanceRecord = Field(description="How the numbers were made: app version, methods, time; "
                                                     "the model's version is in model.")
    summary: list[SummaryRow] = Field(description="The rows the page shows under the HC, in order.")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def of(cls, m: "Measurement", model_name: str, model_version: str, measured_at: datetime | None = None,
           **extra: Any) -> "MeasurementRecord":
        """The record of one measurement (made now unless ``measured_at``); ``extra`` are the fields a
        subclass adds."""
        b, e, q, t = m.biometry, m.biometry.ellipse, m.biometry.quality, m.trust
        calibrated = b.hc_mm is not None
        spacing = m.spacing
        gestational_age = None
        if calibrated:
            gestational_age = {"hadlock": m.hadlock.to_dict(), "intergrowth21": m.intergrowth_ga.to_dict()}
        fields = dict(
            circumference=fixed(b.hc_mm if calibrated else b.hc_px),
            circumference_unit="mm" if calibrated else "px",
            circumference_mm=rounded(b.hc_mm), circumference_px=rounded(b.hc_px),
            circumference_interval_mm=_rounded_pair(t.interval_mm), circumference_interval_px=_rounded_pair(t.interval_px),
            circumference_interval_level=t.level, stage_disagreement=rounded(m.stage_disagreement, 4),
            calibrated=calibrated,
            bpd_mm=rounded(b.bpd_mm), ofd_mm=rounded(b.ofd_mm), bpd_px=rounded(b.bpd_px), ofd_px=rounded(b.ofd_px),
            cephalic_index=rounded(b.cephalic_index, 1),
            ellipse=_ellipse(e), ellipse_source=m.ellipse_source, automatic=_automatic(m.automatic),
            pixel_size_mm=None if spacing is None else rounded(spacing.x_mm, 6),
            pixel_size_y_mm=None if spacing is None else rounded(spacing.y_mm, 6),
            pixel_size_source=None if spacing is None else "dicom" if spacing.source.startswith("dicom") else "form",
            calibration_note=m.image.calibration_note if spacing is None else None,
            gestational_age=gestational_age,
            centile=None if m.centile is None else m.centile.to_dict(),
            confidence=rounded(t.confidence, 3), image_quality=t.verdict, quality_flags=list(t.reasons),
            alerts=alerts_of(m),
            quality_signals=q.to_dict(),
            processing_time=f"{m.seconds:.2f}s", processing_time_ms=round(m.seconds * 1000.0, 1),
            image={"width": m.image.width, "height": m.image.height, "format": m.image.format,
                   "frame": m.image.frame, "n_frames": m.image.n_frames},
            model={"name": model_name, "version": model_version},
            provenance={"app_version": fetalhc.__version__, "hc_method": HC_METHOD, "bpd_convention": BPD_CONVENTION,
                        "ofd_convention": OFD_CONVENTION,
                        "measured_at": measured_at or datetime.now(timezone.utc).replace(microsecond=0)},
        )
        fields["summary"] = summary_rows(fields)
        return cls.model_validate({**fields, **extra})


def alerts_of(m: "Measurement") -> list[dict]:
    """The alerts of one measurement, most specific first."""
    alerts = []
    c, h = m.centile, m.hadlock
    if c is not None and c.centile is not None and not 3.0 <= c.centile <= 97.0:
        side = "below the 3rd" if c.centile < 3.0 else "above the 97th"
        alerts.append({"code": "below_3rd_centile" if c.centile < 3.0 else "above_97th_centile",
                       "reason": f"HC is {side} centile at {c.ga_text} (centile {c.centile:.1f}, z {c.z:+.2f})"})
    if c is not None and h is not None and h.ga_weeks is not None and abs(h.ga_weeks - c.ga_weeks) > GA_MISMATCH_WEEKS:
        alerts.append({"code": "ga_mismatch",
                       "reason": f"the HC dates the pregnancy to {h.ga_text} (Hadlock), more than "
                                 f"{GA_MISMATCH_WEEKS:g} weeks from the entered {c.ga_text}"})
    if m.biometry.quality.plausible_size is False:
        alerts.append({"code": "implausible_size",
                       "reason": f"HC {fixed(m.biometry.hc_mm)} mm is not a plausible fetal head size; check the pixel size"})
    if m.trust.verdict == "Poor":
        alerts.append({"code": "poor_quality", "reason": "the measurement is Poor: " + "; ".join(m.trust.reasons)})
    return alerts


def _ellipse(e) -> dict:
    values = {"center_x_px": e.center_x, "center_y_px": e.center_y, "semi_major_px": e.semi_major,
              "semi_minor_px": e.semi_minor, "angle_deg": e.angle_deg}
    return {key: rounded(value, GEOMETRY_DIGITS) for key, value in values.items()}


def _automatic(b) -> dict | None:
    return None if b is None else {
        "ellipse": _ellipse(b.ellipse), "circumference_mm": rounded(b.hc_mm), "circumference_px": rounded(b.hc_px),
        "bpd_mm": rounded(b.bpd_mm), "ofd_mm": rounded(b.ofd_mm), "bpd_px": rounded(b.bpd_px),
        "ofd_px": rounded(b.ofd_px), "cephalic_index": rounded(b.cephalic_index, 1)}


def _rounded_pair(pair: tuple[float, float] | None) -> tuple[float, float] | None:
    return None if pair is None else (rounded(pair[0]), rounded(pair[1]))


_SPACING_SOURCES = {"form": "entered", "dicom": "from the DICOM file"}


def _length(f: dict, key: str) -> str:
    mm = f[f"{key}_mm"]
    # The record's own rounded value with its two decimals, as in the JSON and the overlay label.
    return f"{fixed(mm)} mm" if mm is not None else f"{fixed(f[f'{key}_px'])} px"


def _value_or_reason(label: str, value: str | None, reason: str | None) -> dict:
    return {"label": label, "value": value, "note": False} if value is not None else \
        {"label": label, "value": reason or "", "note": True}


def summary_rows(f: dict) -> list[dict]:
    """The rows under the HC on the page; a note row says why a value is missing."""
    rows = []
    if f["ellipse_source"] == "edited":  # the model's interval holds for its own fits only
        rows.append({"label": "HC interval", "value": "none for an ellipse edited by hand", "note": True})
        if f["automatic"] is not None:
            rows.append({"label": "Automatic fit", "value": "HC " + _length(f["automatic"], "circumference"),
                         "note": False})
    interval = f["circumference_interval_mm"] or f["circumference_interval_px"]
    if interval is not None:
        unit = "mm" if f["circumference_interval_mm"] else "px"
        rows.append({"label": f"HC {100 * f['circumference_interval_level']:.0f} % interval",
                     "value": f"{fixed(interval[0])} to {fixed(interval[1])} {unit}", "note": False})
    rows += [{"label": "BPD", "value": _length(f, "bpd"), "note": False},
            {"label": "OFD", "value": _length(f, "ofd"), "note": False},
            {"label": "Cephalic index", "value": f"{f['cephalic_index']:.1f}", "note": False}]
    ga = f["gestational_age"]
    if ga is None:
        rows.append({"label": "Gestational age", "value": "needs the pixel size", "note": True})
    else:
        h, ig = ga["hadlock"], ga["intergrowth21"]
        band = f"{h['ga_text']} (±2 SD {h['low_text']} to {h['high_text']})" if h["ga_weeks"] is not None else None
        rows.append(_value_or_reason("GA (Hadlock)", band, h["reason"]))
        rows.append(_value_or_reason("GA (INTERGROWTH-21st)", ig["ga_text"], ig["reason"]))
    c = f["centile"]
    if c is not None:
        place = f"z {c['z']:+.2f}, centile {c['centile']:.1f} ({c['classification']})" if c["z"] is not None else None
        rows.append(_value_or_reason(f"HC at {c['ga_text']}", place, c["reason"]))
    spacing = None
    if f["pixel_size_mm"] is not None:
        spacing = f"{f['pixel_size_mm']:g} mm/pixel ({_SPACING_SOURCES[f['pixel_size_source']]})"
    rows.append(_value_or_reason("Pixel size", spacing, f.get("calibration_note") or "not given"))
    rows.append({"label": "Processing time", "value": f["processing_time"], "note": False})
    return rows


class MeasurementAnswer(MeasurementRecord):
    """The record as ``POST /`` sends it: with the transport's request id and, when asked, the overlay."""

    request_id: str = Field(description="Also in the X-Request-ID header; quote it when reporting a problem.")
    overlay_png_base64: str | None = Field(
        default=None, description="The image with the fitted ellipse and axes; only with overlay=1.",
        json_schema_extra={"contentEncoding": "base64", "contentMediaType": "image/png"})

    def to_json(self) -> dict[str, Any]:
        # The overlay is absent rather than null when it was not asked for.
        return self.model_dump(mode="json", exclude=None if self.overlay_png_base64 else {"overlay_png_base64"})

