"""The growth chart route, the chart on the page without JavaScript, and the PDF report of POST /:
opened with pypdf, it says what the JSON answer for the same image says."""
from __future__ import annotations

import io
import logging
import re
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader

from testkit.samples import (BROWSER, JSON, PATIENT_FILE_NAME, error_of, hc18_reference, page_csrf_token,
                             upload)

PDF = {"Accept": "application/pdf"}
FILE_NAME = re.compile(r'attachment; filename="fetalhc-report-\d{8}-\d{6}Z\.pdf"')


def _words(text: str) -> str:
    """Text with every run of white space as one space (the PDF wraps lines where the page does not)."""
    return " ".join(text.split())


def _pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    return _words(reader.pages[0].extract_text())


def _post(client, hc18, headers, name="image.png", **fields):
    data, pixel_size_mm, _ = hc18_reference(hc18)  # 010_HC.png: HC about 72 mm
    form = {"image": upload(data, name), "pixel_size_mm": str(pixel_size_mm), **fields}
    return client.post("/", data=form, headers=headers)


# --- GET /chart.svg --------------------------------------------------------------------------------

def test_chart_svg_marks_the_given_measurement(client):
    response = client.get("/chart.svg?hc_mm=172.5&ga_weeks=20&ga_days=3")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    mark = root.find(".//{http://www.w3.org/2000/svg}g[@class='measurement']")
    assert mark.get("data-ga-weeks") == f"{20 + 3 / 7:g}"
    assert "HC 172.50 mm at 20w 3d" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, fragment", [
    ("", "needs 'hc_mm'"),
    ("hc_mm=172.5", "needs 'hc_mm'"),
    ("hc_mm=abc&ga_weeks=20", "'hc_mm' must be the head circumference in mm"),
    ("hc_mm=nan&ga_weeks=20", "'hc_mm' must be"),
    ("hc_mm=-5&ga_weeks=20", "positive number"),
    ("hc_mm=172.5&ga_weeks=13", "14+0 to 40+0"),
    ("hc_mm=172.5&ga_weeks=40&ga_days=1", "14+0 to 40+0"),
    ("hc_mm=172.5&ga_weeks=20&ga_days=7", "'ga_days' must be a whole number of days from 0 to 6"),
    ("hc_mm=172.5&ga_weeks=20&ga_days=2.5", "'ga_days' must be a whole number"),
])
def test_chart_svg_refuses_bad_values_with_what_to_send(client, query, fragment):
    status, code, message = error_of(client.get("/chart.svg?" + query))
    assert (status, code) == (400, "invalid_field") and fragment in message


# --- the page without JavaScript -------------------------------------------------------------------

def _page(client, hc18, **fields):
    return _post(client, hc18, BROWSER, csrf_token=page_csrf_token(client), **fields).get_data(as_text=True)


def test_the_result_page_shows_the_chart_inline(client, hc18):
    html = _page(client, hc18, ga_weeks="20")
    figure = re.search(r'<figure id="growth-chart"[^>]*>(.*?)</figure>', html, re.S)
    assert figure and "hidden" not in figure.group(0).split(">")[0]
    assert figure.group(1).lstrip().startswith("<svg") and 'data-centile="97"' in figure.group(1)
    assert re.search(r"HC \d+\.\d\d mm at 20w 0d", figure.group(1))


@pytest.mark.parametrize("fields", [{}, {"ga_weeks": "13"}])  # no age; an age before the standard
def test_no_chart_without_a_centile(client, hc18, fields):
    html = _page(client, hc18, **fields)
    assert re.search(r'<figure id="growth-chart"[^>]*hidden[^>]*></figure>', html)


# --- the PDF report --------------------------------------------------------------------------------

@pytest.mark.parametrize("how", [{"headers": PDF}, {"headers": JSON, "format": "pdf"}])
def test_the_pdf_says_what_the_json_says(client, hc18, how):
    fields = {"ga_weeks": "20", "ga_days": "3"}
    answer = _post(client, hc18, JSON, **fields).get_json()
    extra = {k: v for k, v in how.items() if k != "headers"}
    response = _post(client, hc18, how["headers"], name=PATIENT_FILE_NAME, **fields, **extra)
    text = _pdf_text(response)
    assert FILE_NAME.fullmatch(response.headers["Content-Disposition"])
    assert "DOE" not in response.headers["Content-Disposition"] and b"DOE_JANE" not in response.data
    rows = {row["label"]: row["value"] for row in answer["summary"]}
    assert f"HC {answer['circumference']} mm" in text
    for label in ("HC 90 % interval", "GA (Hadlock)", "GA (INTERGROWTH-21st)", "HC at 20w 3d", "BPD", "OFD"):
        assert _words(f"{label} {rows[label]}") in text, label
    assert f"Quality: {answer['image_quality']}" in text
    for flag in answer["quality_flags"]:
        assert _words(flag) in text
    stamp = answer["provenance"]["measured_at"].replace("T", " ").rstrip("Z")
    assert re.search(rf"Measured: {stamp[:10]} \d\d:\d\d:\d\d UTC", text)
    assert "Outer-outer: the minor axis of the fitted ellipse." in text
    assert f"Model {answer['model']['name']} {answer['model']['version']}" in text
    assert "Research use only, not a medical device" in text
    assert "Ellipse: automatic" in text
    assert "3rd centile" in text and "97th centile" in text and "Gestational age (weeks)" in text


@pytest.mark.parametrize("fields, codes", [
    ({"ga_weeks": "20"}, {"below_3rd_centile", "ga_mismatch"}),
    ({"pixel_size_mm": "1.5", "ga_weeks": "30"}, {"implausible_size", "poor_quality"}),
])
def test_every_alert_is_in_the_pdf_with_its_marker(client, hc18, fields, codes):
    answer = _post(client, hc18, JSON, **fields).get_json()
    assert codes <= {a["code"] for a in answer["alerts"]}
    text = _pdf_text(_post(client, hc18, PDF, **fields))
    for alert in answer["alerts"]:
        assert _words(f"(!) ALERT: {alert['reason']}") in text


def test_an_implausible_hc_gets_no_chart_and_says_why(client, hc18):
    text = _pdf_text(_post(client, hc18, PDF, pixel_size_mm="1.5", ga_weeks="30"))
    assert "No growth chart:" in text and "not a plausible" in text and "97th centile" not in text


def test_the_exam_label_is_printed_as_typed_and_never_logged(client, hc18, caplog):
    label = "Room 2 · scan 3 — Ünal"
    with caplog.at_level(logging.DEBUG):
        text = _pdf_text(_post(client, hc18, PDF, exam_label=f"  {label}  ", ga_weeks="20"))
    assert f"Exam label: {label} Measured:" in text
    assert not [r for r in caplog.records if "Room 2" in r.getMessage()]


def test_without_a_label_the_report_says_so(client, hc18):
    assert "Exam label: none given" in _pdf_text(_post(client, hc18, PDF))


@pytest.mark.parametrize("label, fragment", [
    ("x" * 81, "81 characters; at most 80"),
    ("line one\nline two", "one line of text"),
    ("scan\u202eevil", "one line of text"),  # a bidirectional override
    ("检查 3", "cannot print 2 character(s)"),
])
def test_a_label_that_cannot_be_printed_as_typed_is_refused(client, hc18, label, fragment):
    status, code, message = error_of(_post(client, hc18, PDF, exam_label=label))
    assert (status, code) == (400, "invalid_field") and fragment in message and label not in message


def test_an_uncalibrated_report_says_it_is_in_pixels(client, hc18):
    data, _, _ = hc18_reference(hc18)
    text = _pdf_text(client.post("/", data={"image": upload(data)}, headers=PDF))
    assert re.search(r"HC \d+\.\d\d px", text) and "Uncalibrated" in text


def test_a_browser_form_post_downloads_the_report(client, hc18):
    response = _post(client, hc18, BROWSER, csrf_token=page_csrf_token(client), format="pdf", ga_weeks="20")
    assert response.mimetype == "application/pdf" and FILE_NAME.fullmatch(response.headers["Content-Disposition"])


def test_the_pdf_answer_and_the_label_are_documented():
    from fetalhc.web.openapi import openapi_document
    post = openapi_document()["paths"]["/"]["post"]
    assert "application/pdf" in post["responses"]["200"]["content"]
    fields = post["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert fields["exam_label"]["maxLength"] == 80 and "pdf" in fields["format"]["enum"]


def test_the_report_of_an_edited_ellipse_says_so_and_shows_its_numbers(client, hc18):
    import json
    fitted = _post(client, hc18, JSON, ga_weeks="20").get_json()["ellipse"]
    edited = json.dumps({**fitted, "semi_major_px": fitted["semi_major_px"] * 1.1})
    answer = _post(client, hc18, JSON, ga_weeks="20", ellipse=edited).get_json()
    assert answer["ellipse_source"] == "edited"
    text = _pdf_text(_post(client, hc18, PDF, ga_weeks="20", ellipse=edited))
    assert "Ellipse: edited" in text and f"HC {answer['circumference']} mm" in text
    rows = {row["label"]: row["value"] for row in answer["summary"]}
    assert _words(f"HC at 20w 0d {rows['HC at 20w 0d']}") in text


def test_the_page_without_javascript_keeps_the_typed_label(client, hc18):
    html = _page(client, hc18, exam_label="Room 2, scan 3", ga_weeks="20")
    assert re.search(r'id="exam_label"[^>]*value="Room 2, scan 3"', html)
