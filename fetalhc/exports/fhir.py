"""The result record as a FHIR R4 Bundle (type ``collection``) of Observations and the Device.

* HC, BPD and OFD: one Observation each, LOINC-coded, ``valueQuantity`` in UCUM ``mm``, the
  method of :mod:`fetalhc.record` in ``method``; HC carries its calibrated prediction interval
  as a component with its own code text (``referenceRange`` would mean a normal range) and
  the quality verdict as another;
* the gestational age (Hadlock 1984 from HC) in days, with LOINC 11932-1 as its ``method``,
  derived from the HC Observation;
* ``status`` is ``preliminary`` unless the user accepted the result (``final``); a tag says
  whether the numbers are automatic or were edited;
* the Device names the model and its version, and the app's version.

No patient data: ``subject`` is set only to a reference the client supplies. Only the
structure is built here (plain JSON); the tests validate it with ``fhir.resources``.
"""
from __future__ import annotations

import uuid

from fetalhc.exports import codes, require_mm
from fetalhc.exports.codes import ucum
from fetalhc.record import MeasurementRecord

CATEGORY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "imaging", "display": "Imaging"}]}
ENTRY_MODE_SYSTEM = "urn:fetalhc:entry-mode"
ENTRY_MODES = {False: ("automatic", "Measured automatically, not edited"),
               True: ("edited", "Edited by the user after the automatic measurement")}
NOTICE = "Research use only, not a medical device: not for diagnostic use. Check every number."


def _url() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _device(record: MeasurementRecord) -> dict:
    return {"resourceType": "Device",
            "deviceName": [{"name": f"fetalhc {record.model.name}", "type": "model-name"}],
            "version": [{"type": {"text": "model"}, "value": record.model.version},
                        {"type": {"text": "application"}, "value": record.provenance.app_version}],
            "note": [{"text": NOTICE}]}


def _observation(record: MeasurementRecord, concept: codes.Concept, quantity: dict, method: dict, device_url: str,
                 accepted: bool, edited: bool, subject: str | None) -> dict:
    when = record.provenance.measured_at.isoformat().replace("+00:00", "Z")
    mode, mode_text = ENTRY_MODES[edited]
    obs = {"resourceType": "Observation",
           "meta": {"tag": [{"system": ENTRY_MODE_SYSTEM, "code": mode, "display": mode_text}]},
           "status": "final" if accepted else "preliminary",
           "category": [CATEGORY],
           "code": {"coding": [concept.fhir()], "text": concept.display},
           "effectiveDateTime": when, "issued": when,
           "device": {"reference": device_url},
           "method": method,
           "valueQuantity": quantity,
           "note": [{"text": NOTICE}]}
    if subject:
        obs["subject"] = {"reference": subject}
    return obs


def _hc_components(record: MeasurementRecord) -> list[dict]:
    parts = []
    if record.circumference_interval_mm is not None:
        low, high = record.circumference_interval_mm
        parts.append({"code": {"text": f"HC {record.circumference_interval_level:.0%} prediction interval "
                                       "(calibrated on held-out subjects)"},
                      "valueRange": {"low": ucum(low, "mm"), "high": ucum(high, "mm")}})
    parts.append({"code": {"text": "fetalhc quality verdict"}, "valueString": record.image_quality})
    return parts


def fhir_bundle(record: MeasurementRecord, accepted: bool = False, edited: bool = False,
                subject: str | None = None) -> dict:
    """The Bundle of ``record``; ``accepted`` makes the Observations ``final``; ``subject`` is the
    client's reference (e.g. ``Patient/123``), never a patient field of the upload."""
    require_mm(record)
    p = record.provenance
    device_url, hc_url = _url(), _url()
    common = dict(device_url=device_url, accepted=accepted, edited=edited, subject=subject)
    hc = _observation(record, codes.HEAD_CIRCUMFERENCE, ucum(record.circumference_mm, "mm"),
                      {"text": p.hc_method}, **common)
    hc["component"] = _hc_components(record)
    entries = [(device_url, _device(record)), (hc_url, hc),
               (_url(), _observation(record, codes.BIPARIETAL_DIAMETER, ucum(record.bpd_mm, "mm"),
                                     {"text": p.bpd_convention}, **common)),
               (_url(), _observation(record, codes.OCCIPITAL_FRONTAL_DIAMETER, ucum(record.ofd_mm, "mm"),
                                     {"text": p.ofd_convention}, **common))]
    hadlock = record.gestational_age.hadlock if record.gestational_age else None
    if hadlock is not None and hadlock.ga_weeks is not None:
        ga = _observation(record, codes.GESTATIONAL_AGE, ucum(round(hadlock.ga_weeks * 7, 1), "d"),
                          {"coding": [codes.HC_HADLOCK_1984.fhir()], "text": hadlock.source}, **common)
        ga["derivedFrom"] = [{"reference": hc_url}]
        ga["component"] = [{"code": {"text": "Hadlock 1984 +/-2 SD range"},
                            "valueRange": {"low": ucum(round(hadlock.low_weeks * 7, 1), "d"),
                                           "high": ucum(round(hadlock.high_weeks * 7, 1), "d")}}]
        entries.append((_url(), ga))
    return {"resourceType": "Bundle", "type": "collection",
            "timestamp": p.measured_at.isoformat().replace("+00:00", "Z"),
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries]}
