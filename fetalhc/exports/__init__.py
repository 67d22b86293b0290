"""Standard exports of the one result record: a FHIR R4 Bundle and a DICOM Structured Report.

Both are derived from :class:`fetalhc.record.MeasurementRecord` (numbers, provenance) and
name their concepts with the codes of :mod:`fetalhc.exports.codes`, defined once.
"""
from __future__ import annotations


class ExportError(ValueError):
    """The measurement cannot be exported in this form; ``message`` says what to send instead."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def require_mm(record) -> None:
    if record.circumference_mm is None or record.bpd_mm is None or record.ofd_mm is None:
        raise ExportError("needs_calibration", "FHIR and DICOM SR exports carry lengths in mm: send "
                                               "pixel_size_mm, or a DICOM file with its calibration.")
