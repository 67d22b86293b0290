"""POST /ellipse and the ellipse field of POST /: an ellipse placed by hand, measured by the server's code."""
from __future__ import annotations

import json

import pytest

from fetalhc.measurement import ramanujan_perimeter
from fetalhc.record import MeasurementRecord
from fetalhc.record_csv import csv_columns, flat_row
from fetalhc.settings import DEFAULT_ELLIPSE_RATE_LIMIT, ConfigError, Settings
from testkit.samples import BROWSER, JSON, error_of, hc18_reference, page_csrf_token, upload

ELLIPSE = {"center_x_px": 400.0, "center_y_px": 270.0, "semi_major_px": 200.0, "semi_minor_px": 160.0,
           "angle_deg": 30.0}
IMAGE = {"width": 800, "height": 540}


@pytest.fixture(scope="module")
def automatic(app, hc18):
    """The automatic answer for the HC18 image, with its pixel size and a gestational age."""
    data, pixel_mm, _ = hc18_reference(hc18)
    response = app.test_client().post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm),
                                                  "ga_weeks": "20", "ga_days": "3"}, headers=JSON)
    assert response.status_code == 200
    return response.get_json()


def _edit(client, ellipse, answer=None, **fields):
    body = {"ellipse": ellipse, "image": IMAGE if answer is None else
            {k: answer["image"][k] for k in ("width", "height")}, **fields}
    return client.post("/ellipse", json=body, headers=JSON)


def test_the_automatic_ellipse_gives_the_automatic_values(client, automatic):
    """The same code measures a fitted and a placed ellipse: the answer's own ellipse gives back its HC,
    BPD, OFD, GA and centile (to the rounding of the ellipse's 0.01 px)."""
    response = _edit(client, automatic["ellipse"], automatic, pixel_size_mm=automatic["pixel_size_mm"],
                     ga_weeks=20, ga_days=3, automatic=automatic["ellipse"])
    assert response.status_code == 200, response.get_data(as_text=True)
    edited = response.get_json()
    MeasurementRecord.model_validate({k: v for k, v in edited.items() if k != "request_id"})
    for key in ("circumference_mm", "bpd_mm", "ofd_mm"):
        assert edited[key] == pytest.approx(automatic[key], abs=0.02), key
    assert edited["cephalic_index"] == pytest.approx(automatic["cephalic_index"], abs=0.1)
    assert edited["circumference_px"] == pytest.approx(automatic["circumference_px"], abs=0.02)
    hadlock, auto_hadlock = edited["gestational_age"]["hadlock"], automatic["gestational_age"]["hadlock"]
    assert hadlock["ga_text"] == auto_hadlock["ga_text"]
    assert edited["centile"]["z"] == pytest.approx(automatic["centile"]["z"], abs=0.01)
    assert edited["centile"]["ga_text"] == "20w 3d"
    assert edited["ellipse_source"] == "edited" and automatic["ellipse_source"] == "automatic"
    assert automatic["automatic"] is None
    assert edited["automatic"]["ellipse"] == automatic["ellipse"]
    assert edited["automatic"]["circumference_mm"] == pytest.approx(automatic["circumference_mm"], abs=0.02)
    assert "overlay_png_base64" not in edited and edited["request_id"] == response.headers["X-Request-ID"]


def test_an_edited_ellipse_has_no_interval_and_says_why(client, automatic):
    bigger = {**automatic["ellipse"], "semi_major_px": automatic["ellipse"]["semi_major_px"] + 10}
    edited = _edit(client, bigger, automatic, pixel_size_mm=automatic["pixel_size_mm"],
                   automatic=automatic["ellipse"]).get_json()
    assert automatic["circumference_interval_mm"] is not None  # the model's own fit has one
    assert edited["circumference_interval_mm"] is None and edited["circumference_interval_px"] is None
    assert edited["circumference_interval_level"] is None and edited["confidence"] is None
    assert edited["summary"][0] == {"label": "HC interval", "value": "none for an ellipse edited by hand",
                                    "note": True}
    assert edited["summary"][1]["value"] == f"HC {automatic['circumference_mm']:.2f} mm"
    assert any("placed by hand" in flag for flag in edited["quality_flags"])
    assert edited["image_quality"] == "Fair" and edited["quality_signals"]["ellipse_iou"] is None
    # A longer major axis: a longer HC, by Ramanujan's perimeter of the ellipse sent.
    assert edited["circumference_mm"] > automatic["circumference_mm"] + 1
    e = edited["ellipse"]
    assert edited["circumference_px"] == pytest.approx(
        ramanujan_perimeter(e["semi_major_px"], e["semi_minor_px"]), abs=0.01)
    assert edited["circumference_mm"] == pytest.approx(edited["circumference_px"] * automatic["pixel_size_mm"],
                                                       abs=0.01)
    # The CSV row follows the record: the automatic values have their own columns.
    row = flat_row(MeasurementRecord.model_validate({k: v for k, v in edited.items() if k != "request_id"}))
    assert list(row) == csv_columns()
    assert row["ellipse_source"] == "edited" and row["automatic.circumference_mm"] == automatic["circumference_mm"]


def test_uncalibrated_edit_is_in_pixels_and_swapped_axes_are_normalised(client):
    swapped = {**ELLIPSE, "semi_major_px": 160.0, "semi_minor_px": 200.0, "angle_deg": 120.0}
    body = _edit(client, swapped).get_json()
    assert body["circumference_unit"] == "px" and body["circumference_mm"] is None
    assert body["ellipse"] == ELLIPSE  # the major axis is reported, turned by 90 degrees
    assert body["circumference_px"] == pytest.approx(ramanujan_perimeter(200, 160), abs=0.01)
    assert body["automatic"] is None and body["image"] == {**IMAGE, "format": None, "frame": None, "n_frames": None}


def test_anisotropic_pixels_measure_the_ellipse_in_millimetres(client):
    """A circle of 100 px on pixels 0.1 mm wide and 0.2 mm high is an ellipse of 10 by 20 mm."""
    circle = {**ELLIPSE, "semi_major_px": 100.0, "semi_minor_px": 100.0, "angle_deg": 0.0}
    body = _edit(client, circle, pixel_size_mm=0.1, pixel_size_y_mm=0.2, pixel_size_source="dicom").get_json()
    assert (body["ofd_mm"], body["bpd_mm"]) == (pytest.approx(40.0, abs=0.01), pytest.approx(20.0, abs=0.01))
    assert body["circumference_mm"] == pytest.approx(ramanujan_perimeter(20, 10), abs=0.01)
    assert body["pixel_size_source"] == "dicom" and "from the DICOM file" in body["summary"][-2]["value"]


def test_an_implausible_edit_is_poor_with_its_alert(client):
    huge = {**ELLIPSE, "semi_major_px": 300.0, "semi_minor_px": 280.0}
    body = _edit(client, huge, pixel_size_mm=1.0, ga_weeks=20).get_json()
    assert body["image_quality"] == "Poor"
    assert {a["code"] for a in body["alerts"]} >= {"implausible_size", "poor_quality"}
    assert body["centile"]["centile"] is None  # no centile for an HC no fetus has


@pytest.mark.parametrize("change, field", [
    ({"ellipse": None}, "ellipse"),
    ({"ellipse": {k: v for k, v in ELLIPSE.items() if k != "semi_minor_px"}}, "semi_minor_px"),
    ({"ellipse": {**ELLIPSE, "semi_major_px": -5}}, "semi-axes"),
    ({"ellipse": {**ELLIPSE, "semi_minor_px": 0}}, "semi-axes"),
    ({"ellipse": {**ELLIPSE, "semi_major_px": 5000}}, "diagonal"),
    ({"ellipse": {**ELLIPSE, "center_x_px": "400"}}, "ellipse.center_x_px"),
    ({"ellipse": {**ELLIPSE, "angle_deg": True}}, "ellipse.angle_deg"),
    ({"ellipse": {**ELLIPSE, "center_x_px": 10 ** 400}}, "ellipse.center_x_px"),
    ({"ellipse": {**ELLIPSE, "center_x_px": 900}}, "centre"),
    ({"ellipse": {**ELLIPSE, "center_y_px": -3}}, "centre"),
    ({"ellipse": {**ELLIPSE, "radius": 3}}, "radius"),
    ({"image": None}, "image"),
    ({"image": {"width": 800}}, "height"),
    ({"image": {"width": 800.5, "height": 540}}, "image.width"),
    ({"image": {"width": 100_000, "height": 100_000}}, "pixels"),
    ({"image": {**IMAGE, "format": "gif"}}, "image.format"),
    ({"pixel_size_mm": -0.1}, "pixel_size_mm"),
    ({"pixel_size_mm": "0.1"}, "pixel_size_mm"),
    ({"pixel_size_y_mm": 0.1}, "pixel_size_y_mm"),
    ({"pixel_size_mm": 0.1, "pixel_size_source": "guess"}, "pixel_size_source"),
    ({"ga_weeks": 60}, "ga_weeks"),
    ({"ga_days": 3}, "ga_days"),
    ({"ga_weeks": 20, "ga_days": 7}, "ga_days"),
    ({"automatic": {**ELLIPSE, "center_x_px": 5000}}, "automatic"),
    ({"patient": "x"}, "patient"),
])
def test_invalid_requests_are_400_and_name_the_field(client, change, field):
    body = {"ellipse": ELLIPSE, "image": IMAGE, **change}
    status, code, message = error_of(client.post("/ellipse", json=body, headers=JSON))
    assert (status, code) == (400, "invalid_field") and field in message, message


@pytest.mark.parametrize("kwargs", [
    {"data": "not json", "content_type": "application/json"},
    {"data": json.dumps({"ellipse": ELLIPSE, "image": IMAGE}), "content_type": "text/plain"},
    {"data": "[1, 2]", "content_type": "application/json"},
    {"data": "[" * 4000 + "]" * 4000, "content_type": "application/json"},
])
def test_a_body_that_is_not_a_json_object_is_400(client, kwargs):
    status, code, message = error_of(client.post("/ellipse", headers=JSON, **kwargs))
    assert (status, code) == (400, "invalid_json") and "JSON object" in message


def test_a_large_body_is_refused(client):
    status, code, _ = error_of(client.post("/ellipse", headers=JSON, content_type="application/json",
                                           data=json.dumps({"ellipse": ELLIPSE, "image": IMAGE, "x": "a" * 20_000})))
    assert (status, code) == (413, "form_too_large")


def test_post_with_an_ellipse_field_reports_the_edited_ellipse_beside_the_automatic_fit(client, automatic, hc18):
    data, pixel_mm, _ = hc18_reference(hc18)
    placed = {**automatic["ellipse"], "semi_minor_px": round(automatic["ellipse"]["semi_minor_px"] - 8, 2)}
    response = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm), "ga_weeks": "20",
                                      "ga_days": "3", "ellipse": json.dumps(placed), "overlay": "1"}, headers=JSON)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ellipse"] == placed and body["ellipse_source"] == "edited"
    assert body["automatic"]["ellipse"] == automatic["ellipse"]
    assert body["automatic"]["circumference_mm"] == automatic["circumference_mm"]
    assert body["circumference_interval_mm"] is None and body["overlay_png_base64"]
    # The same ellipse sent to POST /ellipse gives the same record.
    same = _edit(client, placed, automatic, pixel_size_mm=pixel_mm, ga_weeks=20, ga_days=3,
                 automatic=automatic["ellipse"]).get_json()
    for key in ("circumference_mm", "bpd_mm", "ofd_mm", "cephalic_index", "centile", "alerts", "image_quality"):
        assert body[key] == same[key], key


@pytest.mark.parametrize("raw, message", [("{not json", "must be JSON"), ('{"center_x_px": 1}', "lacks"),
                                          (json.dumps({**ELLIPSE, "center_x_px": 5000}), "centre")])
def test_post_with_a_bad_ellipse_field_is_400(client, hc18, raw, message):
    data, _, _ = hc18_reference(hc18)
    status, code, text = error_of(client.post("/", data={"image": upload(data), "ellipse": raw}, headers=JSON))
    assert (status, code) == (400, "invalid_field") and message in text and "'ellipse'" in text


def test_the_page_edits_with_its_csrf_token_and_an_api_key_is_required(make_app):
    client = make_app(api_key="k").test_client()
    body = {"ellipse": ELLIPSE, "image": IMAGE}
    assert error_of(client.post("/ellipse", json=body, headers=JSON))[:2] == (401, "unauthorized")
    assert client.post("/ellipse", json=body, headers={**JSON, "X-API-Key": "k"}).status_code == 200
    # A browser's fetch carries the page's token; a stale one is refused.
    stale = client.post("/ellipse", json=body, headers={**JSON, "X-CSRFToken": "stale"})
    assert error_of(stale)[:2] == (400, "csrf_failed")


def test_ellipse_edits_have_their_own_rate_limit(make_app, hc18):
    """Dragging the ellipse must not use up the upload limit, and the edits have a limit of their own."""
    client = make_app(rate_limit="1/hour", ellipse_rate_limit="3/minute").test_client()
    body = {"ellipse": ELLIPSE, "image": IMAGE}
    assert [client.post("/ellipse", json=body, headers=JSON).status_code for _ in range(4)] == [200, 200, 200, 429]
    data, _, _ = hc18_reference(hc18)
    assert client.post("/", data={"image": upload(data)}, headers=JSON).status_code == 200  # the upload is still free
    unlimited = make_app(rate_limit="1/hour").test_client()  # no edit limit set: the upload limit does not apply
    assert all(unlimited.post("/ellipse", json=body, headers=JSON).status_code == 200 for _ in range(3))


def test_the_default_edit_limit_comes_with_an_upload_limit(make_app):
    assert Settings.from_env({"FETALHC_RATE_LIMIT": "10/minute"}).ellipse_rate_limit == DEFAULT_ELLIPSE_RATE_LIMIT
    assert Settings.from_env({}).ellipse_rate_limit is None
    assert Settings.from_env({"FETALHC_ELLIPSE_RATE_LIMIT": "5/second"}).ellipse_rate_limit == "5/second"
    with pytest.raises(ConfigError, match="FETALHC_ELLIPSE_RATE_LIMIT"):
        make_app(ellipse_rate_limit="ten a second")


def test_without_a_model_an_edit_is_503(app_without_model):
    response = app_without_model.test_client().post("/ellipse", json={"ellipse": ELLIPSE, "image": IMAGE},
                                                     headers=JSON)
    assert error_of(response)[:2] == (503, "model_unavailable")


def test_the_no_javascript_page_shows_an_edited_result(client, hc18, automatic):
    data, _, _ = hc18_reference(hc18)
    html = client.post("/", data={"image": upload(data), "ellipse": json.dumps(automatic["ellipse"]),
                                  "csrf_token": page_csrf_token(client)}, headers=BROWSER).get_data(as_text=True)
    assert "none for an ellipse edited by hand" in html and "not measured for an edited ellipse" in html
