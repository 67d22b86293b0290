"""The result record as a DICOM Comprehensive SR: measurement report TID 1500, built with highdicom.

The report references the source instance (its Study, Series and SOP Instance UIDs; the
frame of a multi-frame file), holds HC, BPD and OFD with their LOINC codes and UCUM ``mm``,
and the fitted ellipse as an SCOORD ``ELLIPSE`` on the referenced image: the end points of
the major axis, then of the minor axis, in DICOM image coordinates (column, row; (0, 0) is
the top left corner of the top left pixel, so a pixel's centre is +0.5 from its index).

To belong to the source's study the SR copies, from the source, only the attributes of the
Patient and General Study modules that the standard requires (types 1 and 2), nothing else.
It is made in memory only when the client asks for it.
"""
from __future__ import annotations

import io
import math

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes as dicom_codes

from fetalhc.exports import ExportError, codes, require_mm
from fetalhc.record import EllipseRecord, MeasurementRecord

# Types 1 and 2 of the Patient (C.7.1.1) and General Study (C.7.2.1) modules.
PATIENT_STUDY_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                          "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
                          "AccessionNumber")
# What the reference to the source image needs.
REFERENCE_KEYWORDS = ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID")
SR_MEDIA_TYPE = "application/dicom"
NEEDS_UIDS = ("A DICOM SR references the source image: the DICOM file must have its SOP Class, SOP Instance, "
              "Study Instance and Series Instance UIDs.")


def ellipse_points(e: EllipseRecord) -> np.ndarray:
    """The SCOORD ELLIPSE: major axis end points, then minor axis end points, (column, row)."""
    th = math.radians(e.angle_deg)  # clockwise on screen = counter-clockwise in (x, y-down) maths
    cx, cy = e.center_x_px + 0.5, e.center_y_px + 0.5
    major = np.array([math.cos(th), math.sin(th)]) * e.semi_major_px
    minor = np.array([-math.sin(th), math.cos(th)]) * e.semi_minor_px
    centre = np.array([cx, cy])
    return np.array([centre - major, centre + major, centre - minor, centre + minor], dtype=np.float64)


def source_reference(source: bytes) -> Dataset:
    """Only the source's attributes the SR may copy or reference; raises ExportError without UIDs."""
    try:
        full = pydicom.dcmread(io.BytesIO(source), stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError, OSError):
        raise ExportError("needs_dicom", "A DICOM SR can only be made for a DICOM upload.") from None
    kept = Dataset()
    for keyword in REFERENCE_KEYWORDS + PATIENT_STUDY_KEYWORDS:
        if keyword in full:
            setattr(kept, keyword, full[keyword].value)
    if not all(kept.get(k) for k in REFERENCE_KEYWORDS + ("StudyInstanceUID",)):
        raise ExportError("needs_dicom", NEEDS_UIDS)
    for keyword in PATIENT_STUDY_KEYWORDS:  # type 2: present, maybe empty
        if keyword not in kept:
            setattr(kept, keyword, None)
    return kept


def _measurement(concept: codes.Concept, value: float, algorithm: hd.sr.AlgorithmIdentification) -> hd.sr.Measurement:
    return hd.sr.Measurement(name=hd.sr.CodedConcept(concept.code, "LN", concept.meaning), value=value,
                             unit=dicom_codes.UCUM.Millimeter, algorithm_id=algorithm)


def structured_report(record: MeasurementRecord, source: bytes) -> bytes:
    """The SR of ``record`` measured on the DICOM file ``source``, as a DICOM file (bytes)."""
    if record.image.format != "dicom":
        raise ExportError("needs_dicom", "A DICOM SR can only be made for a DICOM upload; "
                                         "use the FHIR or JSON answer for other images.")
    require_mm(record)
    ref = source_reference(source)
    frames = [record.image.frame + 1] if record.image.n_frames > 1 else None
    image = hd.sr.SourceImageForRegion(referenced_sop_class_uid=ref.SOPClassUID,
                                       referenced_sop_instance_uid=ref.SOPInstanceUID,
                                       referenced_frame_numbers=frames)
    region = hd.sr.ImageRegion(graphic_type=hd.sr.GraphicTypeValues.ELLIPSE,
                               graphic_data=ellipse_points(record.ellipse), source_image=image)
    algorithm = hd.sr.AlgorithmIdentification(name=f"fetalhc {record.model.name}", version=record.model.version)
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="fetal head"),
        referenced_region=region, algorithm_id=algorithm,
        measurements=[_measurement(codes.HEAD_CIRCUMFERENCE, record.circumference_mm, algorithm),
                      _measurement(codes.BIPARIETAL_DIAMETER, record.bpd_mm, algorithm),
                      _measurement(codes.OCCIPITAL_FRONTAL_DIAMETER, record.ofd_mm, algorithm)])
    observer = hd.sr.ObserverContext(
        observer_type=dicom_codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name="fetalhc", manufacturer_name="fetalhc",
            model_name=f"{record.model.name} {record.model.version}"))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=dicom_codes.SCT.ObstetricUSScan, imaging_measurements=[group])
    sr = hd.sr.ComprehensiveSR(
        evidence=[ref], content=report, series_instance_uid=hd.UID(), series_number=900,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="fetalhc",
        series_description="fetalhc measurement (research use only)",
        software_versions=record.provenance.app_version,
        content_date=record.provenance.measured_at.date(), content_time=record.provenance.measured_at.time())
    buf = io.BytesIO()
    sr.save_as(buf, enforce_file_format=True)
    return buf.getvalue()
