"""FHIR R4 Bundle and DICOM SR exports: validated with fhir.resources, read back with highdicom."""
from __future__ import annotations

import io
import math

import highdicom as hd
import numpy as np
import pydicom
import pytest
from fhir.resources.R4B.bundle import Bundle  # fhir.resources 8 ships R5 and R4B; R4B's Observation is R4's
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.observation import Observation
from pydicom.sr.codedict import codes as dicom_codes
from pydicom.uid import generate_uid

from fetalhc.exports import codes
from fetalhc.exports.sr import ellipse_points
from fetalhc.record import EllipseRecord
from testkit.samples import (BROWSER, PATIENT_FIELDS, PATIENT_ID, PATIENT_NAME, error_of, head_phantom,
                             page_csrf_token, png_bytes, upload)

FHIR = {"Accept": "application/fhir+json"}
SR = {"Accept": "application/dicom"}
PHANTOM = head_phantom(400, 300, (110, 80))
UIDS = {"StudyInstanceUID": generate_uid(), "SeriesInstanceUID": generate_uid(), "StudyID": "S1",
        "AccessionNumber": "ACC-9", "StudyDescription": "not copied", "InstitutionName": "not copied"}


def _dicom(**attributes) -> bytes:
    from testkit.samples import dicom_bytes
    return dicom_bytes(PHANTOM, 0.2, **attributes)


# --- codes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("concept", codes.ALL, ids=lambda c: c.code)
def test_loinc_codes_are_dicoms_own(concept):
    """Each code is in pydicom's DICOM code dictionary (PS3.16) under LOINC, with this meaning."""
    from pydicom.sr._concepts_dict import concepts
    found = {code: meaning for entry in concepts["LN"].values() for code, (meaning, _) in entry.items()}
    assert found[concept.code] == concept.meaning


def test_hc_is_not_the_edd_code():
    assert codes.HEAD_CIRCUMFERENCE.code == "11984-2" != "11779-6"


# --- FHIR ----------------------------------------------------------------------------------------

def _bundle(client, **fields):
    data = {"image": upload(png_bytes(PHANTOM)), "pixel_size_mm": "0.2", **fields}
    response = client.post("/", data=data, headers=FHIR)
    assert response.status_code == 200 and response.mimetype == "application/fhir+json", response.data[:300]
    return response.get_json()


def _by_code(bundle) -> dict[str, dict]:
    return {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"}


def test_fhir_bundle_validates_with_codes_systems_and_units(client):
    bundle = _bundle(client)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        kind = {"Observation": Observation, "Device": Device}[entry["resource"]["resourceType"]]
        kind.model_validate(entry["resource"])
    assert bundle["type"] == "collection"
    obs = _by_code(bundle)
    assert set(obs) == {"11984-2", "11820-8", "11851-3", "18185-9"}
    json_answer = client.post("/", data={"image": upload(png_bytes(PHANTOM)), "pixel_size_mm": "0.2"}).get_json()
    for code, key in (("11984-2", "circumference_mm"), ("11820-8", "bpd_mm"), ("11851-3", "ofd_mm")):
        q = obs[code]["valueQuantity"]
        assert (q["system"], q["code"], q["unit"]) == ("http://unitsofmeasure.org", "mm", "mm")
        assert q["value"] == pytest.approx(json_answer[key], rel=1e-6)
        assert obs[code]["code"]["coding"][0]["system"] == "http://loinc.org"
        assert obs[code]["status"] == "preliminary" and "subject" not in obs[code]
        assert obs[code]["meta"]["tag"][0]["code"] == "automatic"
    ga = obs["18185-9"]
    assert (ga["valueQuantity"]["code"], ga["method"]["coding"][0]["code"]) == ("d", "11932-1")
    assert ga["valueQuantity"]["value"] == pytest.approx(json_answer["gestational_age"]["hadlock"]["ga_weeks"] * 7, abs=0.1)
    assert "Ramanujan" in obs["11984-2"]["method"]["text"] and "minor axis" in obs["11820-8"]["method"]["text"]
    hc_texts = [c["code"]["text"] for c in obs["11984-2"].get("component", [])]
    assert any("quality" in t for t in hc_texts) and "referenceRange" not in obs["11984-2"]
    device = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Device")
    assert json_answer["model"]["version"] in [v["value"] for v in device["version"]]


def test_fhir_interval_is_a_component_when_the_model_has_one(client, predictor):
    obs = _by_code(_bundle(client))["11984-2"]
    intervals = [c for c in obs["component"] if "interval" in c["code"]["text"]]
    assert len(intervals) == (1 if predictor.uncertainty is not None else 0)
    for c in intervals:
        assert c["valueRange"]["low"]["code"] == "mm" and c["valueRange"]["low"]["value"] < obs["valueQuantity"]["value"]


def test_fhir_accepted_is_final_and_subject_is_the_clients_reference(client):
    obs = _by_code(_bundle(client, accepted="1", subject="Patient/123"))
    assert {o["status"] for o in obs.values()} == {"final"}
    assert {o["subject"]["reference"] for o in obs.values()} == {"Patient/123"}
    assert error_of(client.post("/", data={"image": upload(png_bytes(PHANTOM)), "pixel_size_mm": "0.2",
                                           "subject": "Jane Doe"}, headers=FHIR))[:2] == (400, "invalid_field")


def test_fhir_from_a_dicom_holds_no_patient_field(client):
    response = client.post("/", data={"image": upload(_dicom(**UIDS), "a.dcm")}, headers=FHIR)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and not any(f in text for f in PATIENT_FIELDS)


def test_fhir_needs_a_pixel_size(client):
    response = client.post("/", data={"image": upload(png_bytes(PHANTOM))}, headers=FHIR)
    assert error_of(response)[:2] == (422, "needs_calibration")


def test_fhir_download_from_the_browser_form(client):
    data = {"image": upload(png_bytes(PHANTOM)), "pixel_size_mm": "0.2", "format": "fhir",
            "csrf_token": page_csrf_token(client)}
    response = client.post("/", data=data, headers=BROWSER)
    assert response.mimetype == "application/fhir+json" and "attachment" in response.headers["Content-Disposition"]


# --- DICOM SR ------------------------------------------------------------------------------------

def test_sr_reads_back_with_references_codes_units_and_the_ellipse(client):
    source = _dicom(**UIDS)
    src = pydicom.dcmread(io.BytesIO(source))
    response = client.post("/", data={"image": upload(source, "a.dcm")}, headers=SR)
    assert response.status_code == 200 and response.mimetype == "application/dicom"
    sr = hd.sr.srread(io.BytesIO(response.data))
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert sr.StudyInstanceUID == src.StudyInstanceUID and sr.SeriesInstanceUID != src.SeriesInstanceUID
    assert (str(sr.PatientName), sr.PatientID, sr.AccessionNumber) == (PATIENT_NAME, PATIENT_ID, "ACC-9")
    assert "StudyDescription" not in sr and "InstitutionName" not in sr  # only the required modules
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == src.StudyInstanceUID
    series = evidence.ReferencedSeriesSequence[0]
    assert series.SeriesInstanceUID == src.SeriesInstanceUID
    assert series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID

    json_answer = client.post("/", data={"image": upload(source, "a.dcm")}).get_json()
    groups = sr.content.get_planar_roi_measurement_groups()
    assert len(groups) == 1
    group = groups[0]
    values = {m.name.value: (m.value, m.unit.value, m.name.scheme_designator) for m in group.get_measurements()}
    assert values == {"11984-2": (pytest.approx(json_answer["circumference_mm"]), "mm", "LN"),
                      "11820-8": (pytest.approx(json_answer["bpd_mm"]), "mm", "LN"),
                      "11851-3": (pytest.approx(json_answer["ofd_mm"]), "mm", "LN")}
    region = group.roi
    assert region.GraphicType == "ELLIPSE"
    points = np.asarray(region.value).reshape(4, 2)
    assert np.allclose(points, ellipse_points(EllipseRecord(**json_answer["ellipse"])), atol=1e-3)
    reference = region.ContentSequence[0].ReferencedSOPSequence[0]
    assert reference.ReferencedSOPInstanceUID == src.SOPInstanceUID
    assert sr.ConceptNameCodeSequence[0].CodeValue == dicom_codes.DCM.ImagingMeasurementReport.value  # TID 1500
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"


def test_ellipse_points_are_the_axes_end_points():
    e = EllipseRecord(center_x_px=100, center_y_px=50, semi_major_px=40, semi_minor_px=20, angle_deg=90)
    p = ellipse_points(e)
    # Major axis vertical (90 deg clockwise from x, y down); +0.5 to DICOM's pixel-corner origin.
    assert np.allclose(p, [[100.5, 10.5], [100.5, 90.5], [120.5, 50.5], [80.5, 50.5]])
    assert math.dist(p[0], p[1]) == pytest.approx(80) and math.dist(p[2], p[3]) == pytest.approx(40)


def test_sr_is_only_for_dicom_with_uids(client):
    png = client.post("/", data={"image": upload(png_bytes(PHANTOM)), "pixel_size_mm": "0.2"}, headers=SR)
    assert error_of(png)[:2] == (422, "needs_dicom")
    no_uids = client.post("/", data={"image": upload(_dicom(), "a.dcm")}, headers=SR)
    assert error_of(no_uids)[:2] == (422, "needs_dicom")


def test_json_and_html_answers_never_hold_patient_fields(client):
    source = _dicom(**UIDS)
    for headers, extra in ((None, {}), (BROWSER, {"csrf_token": page_csrf_token(client)})):
        text = client.post("/", data={"image": upload(source, "a.dcm"), **extra},
                           headers=headers or {}).get_data(as_text=True)
        assert not any(f in text for f in PATIENT_FIELDS) and "ACC-9" not in text
