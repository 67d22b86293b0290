"""POST / as a JSON API: every field, every documented error, and a real HC18 measurement."""
from __future__ import annotations

import base64
import re

import cv2
import numpy as np
import pytest

from testkit.samples import (JSON, black_bmp, black_png, dicom_bytes, dicom_without_image, error_of, hc18_pixels,
                             hc18_reference, png_bytes, png_header_only, upload)


def test_hc18_image_measures_close_to_the_reference(client, hc18):
    data, pixel_mm, reference_mm = hc18_reference(hc18)
    response = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm)}, headers=JSON)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "success" and body["calibrated"] is True
    assert body["circumference_unit"] == "mm"
    assert body["circumference_mm"] == pytest.approx(reference_mm, abs=4.0)
    assert body["pixel_size_source"] == "form"
    assert body["gestational_age"]["hadlock"]["method"] == "hadlock_1984"
    assert body["image"] == {"width": 800, "height": 540, "format": "png", "frame": 0, "n_frames": 1}
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    assert response.headers["X-Request-ID"] == body["request_id"]
    assert "overlay_png_base64" not in body  # only on request
    # The reported time covers decoding and analysis.
    assert body["processing_time"] == f"{body['processing_time_ms'] / 1000:.2f}s"
    assert body["processing_time_ms"] > 0


def test_overlay_is_the_uploaded_image_with_the_drawing(client, hc18):
    data, pixel_mm, _ = hc18_reference(hc18)
    body = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm), "overlay": "1"},
                       headers=JSON).get_json()
    overlay = cv2.imdecode(np.frombuffer(base64.b64decode(body["overlay_png_base64"]), np.uint8), cv2.IMREAD_COLOR)
    assert overlay.shape == (540, 800, 3)
    # Away from the drawing the overlay is the image itself, in gray.
    original = hc18_pixels(hc18)
    assert np.array_equal(overlay[-60:, :200, 0], original[-60:, :200])
    assert np.array_equal(overlay[-60:, :200, 0], overlay[-60:, :200, 2])


def test_without_pixel_size_lengths_are_in_pixels(client, hc18):
    data, _, _ = hc18_reference(hc18)
    body = client.post("/", data={"image": upload(data)}, headers=JSON).get_json()
    assert body["calibrated"] is False and body["circumference_unit"] == "px"
    assert body["circumference_mm"] is None and body["circumference"] == f"{body['circumference_px']:.2f}"
    assert body["gestational_age"] is None and body["pixel_size_mm"] is None


@pytest.mark.parametrize("ga_fields, ga_weeks", [({"ga_weeks": "20.5"}, 20.5),
                                                 ({"ga_weeks": "20", "ga_days": "3"}, 20 + 3 / 7)])
def test_gestational_age_gives_a_centile(client, hc18, ga_fields, ga_weeks):
    data, pixel_mm, _ = hc18_reference(hc18)
    body = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm), **ga_fields},
                       headers=JSON).get_json()
    assert body["centile"]["ga_weeks"] == pytest.approx(ga_weeks, abs=0.01)
    assert body["centile"]["method"] == "intergrowth21_hc_standard"


def test_dicom_calibration_is_used_and_the_form_value_wins(client, hc18):
    _, pixel_mm, reference_mm = hc18_reference(hc18)
    dicom = dicom_bytes(hc18_pixels(hc18), pixel_spacing_mm=pixel_mm)
    body = client.post("/", data={"image": upload(dicom, "x.dcm")}, headers=JSON).get_json()
    assert body["pixel_size_source"] == "dicom" and body["image"]["format"] == "dicom"
    assert body["circumference_mm"] == pytest.approx(reference_mm, abs=4.0)
    doubled = client.post("/", data={"image": upload(dicom, "x.dcm"), "pixel_size_mm": str(2 * pixel_mm)},
                          headers=JSON).get_json()
    assert doubled["pixel_size_source"] == "form"
    assert doubled["circumference_mm"] == pytest.approx(2 * body["circumference_mm"], rel=1e-3)


def test_frame_selects_a_frame_of_a_cine_dicom(client, hc18):
    frames = np.stack([np.zeros((540, 800), np.uint8), hc18_pixels(hc18)])
    dicom = dicom_bytes(frames, pixel_spacing_mm=0.08)
    assert error_of(client.post("/", data={"image": upload(dicom)}, headers=JSON))[:2] == (422, "no_head_found")
    body = client.post("/", data={"image": upload(dicom), "frame": "1"}, headers=JSON).get_json()
    assert body["image"]["frame"] == 1 and body["image"]["n_frames"] == 2
    status, code, message = error_of(client.post("/", data={"image": upload(dicom), "frame": "2"}, headers=JSON))
    assert (status, code) == (400, "invalid_frame") and "between 0 and 1" in message


@pytest.mark.parametrize("how", ["accept", "query", "field"])
def test_json_is_chosen_by_accept_header_or_format(client, how):
    kwargs = {"data": {"image": upload(black_png())}}
    if how == "accept":
        kwargs["headers"] = JSON
    elif how == "query":
        kwargs["query_string"] = {"format": "json"}
    else:
        kwargs["data"]["format"] = "json"
    assert error_of(client.post("/", **kwargs))[:2] == (422, "no_head_found")


@pytest.mark.parametrize("field, value", [
    ("pixel_size_mm", "abc"), ("pixel_size_mm", "0"), ("pixel_size_mm", "0.009"), ("pixel_size_mm", "2.5"),
    ("pixel_size_mm", "nan"), ("pixel_size_mm", "inf"), ("pixel_size_mm", "-0.1"),
    ("ga_weeks", "9.9"), ("ga_weeks", "45.5"), ("ga_weeks", "twenty"), ("ga_days", "7"), ("ga_days", "1.5"),
    ("frame", "-1"), ("frame", "1.0"), ("frame", "first"), ("overlay", "yes"),
])
def test_invalid_field_is_named(client, field, value):
    data = {"image": upload(black_png()), field: value}
    if field == "ga_days":
        data["ga_weeks"] = "20"
    status, code, message = error_of(client.post("/", data=data, headers=JSON))
    assert (status, code) == (400, "invalid_field")
    assert f"'{field}'" in message


def test_ga_days_without_weeks_and_total_above_range(client):
    status, code, message = error_of(client.post("/", data={"image": upload(black_png()), "ga_days": "3"},
                                                 headers=JSON))
    assert (status, code) == (400, "invalid_field") and "'ga_weeks'" in message
    status, code, message = error_of(client.post("/", data={"image": upload(black_png()), "ga_weeks": "45",
                                                            "ga_days": "1"}, headers=JSON))
    assert (status, code) == (400, "invalid_field") and "at most 45" in message


@pytest.mark.parametrize("field", ["pixel_size_mm", "ga_weeks", "ga_days", "frame", "overlay"])
def test_empty_optional_fields_are_ignored(client, field):
    # A browser sends every field, empty when left blank.
    response = client.post("/", data={"image": upload(black_png()), field: ""}, headers=JSON)
    assert error_of(response)[1] == "no_head_found"


@pytest.mark.parametrize("data", [{}, {"image": upload(b"", "")}, {"picture": upload(black_png())}],
                         ids=["no field", "form without a chosen file", "wrong field name"])
def test_missing_image(client, data):
    status, code, message = error_of(client.post("/", data=data, headers=JSON))
    assert (status, code) == (400, "missing_image") and "'image'" in message


@pytest.mark.parametrize("data", [
    b"",                                    # empty file with a name
    b"%PDF-1.7 not an image at all",        # not_an_image
    black_png()[:200],                      # truncated
    dicom_without_image(),                  # unsupported_dicom
    png_bytes(np.zeros((8, 8), np.uint8)),  # bad_dimensions
    png_header_only(8000, 6000),            # too_large: 48 megapixels
], ids=["empty", "not_an_image", "truncated", "unsupported_dicom", "bad_dimensions", "too_many_pixels"])
def test_unsupported_image(client, data):
    status, code, message = error_of(client.post("/", data={"image": upload(data)}, headers=JSON))
    assert (status, code) == (415, "unsupported_image")
    assert message


def test_max_pixels_setting_limits_the_image(make_app):
    small_limit = make_app(max_pixels=100_000).test_client()
    status, code, message = error_of(small_limit.post("/", data={"image": upload(black_png(400, 300))}, headers=JSON))
    assert (status, code) == (415, "unsupported_image") and "100,000 pixels" in message


def test_no_head_found(client):
    status, code, message = error_of(client.post("/", data={"image": upload(black_png())}, headers=JSON))
    assert (status, code) == (422, "no_head_found") and "fetal head" in message


@pytest.mark.parametrize("via", ["accept", "query"])
def test_upload_above_the_limit_is_413_json(app, client, monkeypatch, via):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100_000)
    kwargs = {"headers": JSON} if via == "accept" else {"query_string": {"format": "json"}}
    status, code, message = error_of(client.post("/", data={"image": upload(black_bmp(400, 300))}, **kwargs))
    assert (status, code) == (413, "file_too_large") and "MB limit" in message


def test_model_unavailable(app_without_model):
    client = app_without_model.test_client()
    status, code, message = error_of(client.post("/", data={"image": upload(black_png())}, headers=JSON))
    assert (status, code) == (503, "model_unavailable")
