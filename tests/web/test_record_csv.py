"""POST /csv: a result record as the server's CSV, the header and one flat row (fetalhc.record_csv)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from fetalhc.record import MeasurementAnswer
from fetalhc.record_csv import csv_columns, csv_text, flat_row
from testkit.samples import JSON, error_of, hc18_reference, upload

ELLIPSE = {"center_x_px": 400.0, "center_y_px": 270.0, "semi_major_px": 200.0, "semi_minor_px": 160.0,
           "angle_deg": 30.0}


@pytest.fixture(scope="module")
def answer(app, hc18):
    """POST /'s answer for the HC18 image (about 13 weeks by its HC) at an entered 20 weeks: it has alerts."""
    data, pixel_mm, _ = hc18_reference(hc18)
    response = app.test_client().post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm),
                                                  "ga_weeks": "20"}, headers=JSON)
    assert response.status_code == 200
    return response.get_json()


def cells(record: dict) -> dict[str, str]:
    """The server's flat row of a JSON record, each value as its CSV cell (null: empty)."""
    row = flat_row(MeasurementAnswer.model_validate(record))
    return {k: "" if v is None else str(v) for k, v in row.items()}


def csv_row(response) -> dict[str, str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="fetalhc-result.csv"'
    header, row = csv.reader(io.StringIO(response.get_data(as_text=True)))
    assert header == csv_columns()
    return dict(zip(header, row))


def test_the_csv_is_the_records_flat_row_with_alerts_as_codes(client, answer):
    response = client.post("/csv", json=answer, headers=JSON)
    row = csv_row(response)
    assert response.get_data(as_text=True) == csv_text(MeasurementAnswer.model_validate(answer))
    assert row == cells(answer)
    assert row["alerts"] == "; ".join(a["code"] for a in answer["alerts"])
    assert {"below_3rd_centile", "ga_mismatch"} <= set(row["alerts"].split("; "))
    low, high = answer["circumference_interval_mm"]
    assert (float(row["circumference_interval_mm_low"]), float(row["circumference_interval_mm_high"])) == (low, high)
    assert float(row["circumference_mm"]) == answer["circumference_mm"]
    assert row["provenance.measured_at"] == answer["provenance"]["measured_at"]  # as the JSON writes it
    assert row["calibrated"] == "true"  # as the JSON writes it too, and as the page's batch CSV writes "included"
    # An automatic fit has no automatic.* values; the page's rows and the request id are not columns.
    assert all(row[c] == "" for c in row if c.startswith("automatic."))
    assert not {"summary", "request_id", "overlay_png_base64", "automatic"} & set(row)


def test_an_edited_records_csv_has_the_automatic_fit_in_its_columns(client, answer):
    edited = client.post("/ellipse", headers=JSON, json={
        "ellipse": ELLIPSE, "image": {k: answer["image"][k] for k in ("width", "height")},
        "pixel_size_mm": answer["pixel_size_mm"], "ga_weeks": 20, "automatic": answer["ellipse"]}).get_json()
    row = csv_row(client.post("/csv", json=edited, headers=JSON))
    assert row == cells(edited)
    assert row["ellipse_source"] == "edited" and float(row["circumference_mm"]) == edited["circumference_mm"]
    automatic = edited["automatic"]
    assert float(row["automatic.circumference_mm"]) == automatic["circumference_mm"] == answer["circumference_mm"]
    assert float(row["automatic.ellipse.semi_major_px"]) == answer["ellipse"]["semi_major_px"]
    assert row["circumference_interval_mm_low"] == row["circumference_interval_mm_high"] == ""  # no model interval


@pytest.mark.parametrize("change, field", [
    ({"circumference_mm": "long"}, "circumference_mm"),
    ({"alerts": [{"code": "made_up", "reason": "x"}]}, "alerts.0.code"),
    ({"extra": 1}, "extra"),
    ({"status": "error"}, "status"),
])
def test_what_is_not_a_record_is_400_and_names_the_field(client, answer, change, field):
    status, code, message = error_of(client.post("/csv", json={**answer, **change}, headers=JSON))
    assert (status, code) == (400, "invalid_field") and f"record: {field}:" in message


def test_a_record_without_a_field_is_400(client, answer):
    status, code, message = error_of(client.post("/csv", json={k: v for k, v in answer.items() if k != "alerts"},
                                                 headers=JSON))
    assert (status, code) == (400, "invalid_field") and "alerts" in message


@pytest.mark.parametrize("kwargs", [{"data": {"record": "x"}}, {"data": "[1]", "content_type": "application/json"}])
def test_a_body_that_is_not_a_json_object_is_400(client, kwargs):
    status, code, message = error_of(client.post("/csv", headers=JSON, **kwargs))
    assert (status, code) == (400, "invalid_json") and "result record" in message


def test_an_answer_with_its_overlay_image_is_too_large(client, answer):
    body = json.dumps({**answer, "overlay_png_base64": "A" * 100_000})
    status, code, _ = error_of(client.post("/csv", data=body, content_type="application/json", headers=JSON))
    assert (status, code) == (413, "form_too_large")


def test_it_needs_no_api_key_and_no_model(make_app, app_without_model, answer):
    """It measures nothing and answers only what it was sent."""
    for app in (make_app(api_key="k"), app_without_model):
        assert csv_row(app.test_client().post("/csv", json=answer, headers=JSON)) == cells(answer)
