"""Answers that say what is wrong: not an ultrasound, a calibration not used and why, the limit a
form exceeded, names in any encoding, numbers in ASCII digits only. The bytes are built here."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from fetalhc.settings import Settings
from testkit.imaging import WHOLE, region
from testkit.samples import JSON, dicom_bytes, error_of, head_phantom, png_bytes, us_region

PHANTOM = head_phantom(400, 300, (120, 95))


def _multipart(parts: list[tuple[bytes, bytes | None, bytes]]) -> tuple[bytes, str]:
    """A multipart body of (name, filename or None, value) parts, names as raw bytes."""
    boundary = b"b0undary7MA4YWxk"
    body = b"".join(b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name + b'"'
                    + (b'; filename="' + filename + b'"' if filename is not None else b"") + b"\r\n\r\n" + value + b"\r\n"
                    for name, filename, value in parts)
    return body + b"--" + boundary + b"--\r\n", "multipart/form-data; boundary=" + boundary.decode()


def _post_raw(client, parts):
    body, content_type = _multipart(parts)
    return client.post("/", data=body, content_type=content_type, headers=JSON)


@pytest.mark.parametrize("modality", ["CT", "MR"])
def test_ct_and_mr_dicom_are_not_ultrasound(client, modality):
    status, code, message = error_of(_post_raw(client, [(b"image", b"x.dcm", dicom_bytes(PHANTOM, Modality=modality))]))
    assert (status, code) == (422, "not_ultrasound") and f"modality {modality}" in message


def test_secondary_capture_with_ultrasound_regions_is_measured(client):
    data = dicom_bytes(PHANTOM, Modality="OT", SequenceOfUltrasoundRegions=[us_region(400, 300, 0.01)])
    response = _post_raw(client, [(b"image", b"x.dcm", data)])
    assert response.status_code == 200 and response.get_json()["calibrated"] is True


@pytest.mark.parametrize("width, height", [(2000, 40), (10000, 16), (48, 48)])
def test_shapes_no_ultrasound_has_are_refused(client, width, height):
    pixels = cv2.resize(PHANTOM, (width, height), interpolation=cv2.INTER_AREA)
    status, code, message = error_of(_post_raw(client, [(b"image", b"x.png", png_bytes(pixels))]))
    assert (status, code) == (422, "not_ultrasound") and f"{width}×{height}" in message


def test_implausible_dicom_calibration_falls_back_and_says_why(client):
    """A region of 0.01 x 2 mm pixels gave an HC of 1207 mm; now the answer is in pixels, with the reason."""
    data = dicom_bytes(PHANTOM, SequenceOfUltrasoundRegions=[us_region(400, 300, (0.001, 0.2))])
    body = _post_raw(client, [(b"image", b"x.dcm", data)]).get_json()
    assert body["calibrated"] is False and body["circumference_mm"] is None and body["gestational_age"] is None
    assert "0.02 to 1 mm" in body["calibration_note"] and "in pixels" in body["calibration_note"]
    assert body["calibration_note"] in [row["value"] for row in body["summary"]]
    plausible = dicom_bytes(PHANTOM, SequenceOfUltrasoundRegions=[region(WHOLE, (0.01, 0.01))])
    assert _post_raw(client, [(b"image", b"x.dcm", plausible)]).get_json()["calibration_note"] is None


@pytest.mark.parametrize("name, filename", [
    (b"image", "\u00e9chographie.png".encode("latin-1")),   # Latin-1 file name
    (b"image", "\u8d85\u97f3\u6ce2.png".encode("shift_jis")),  # Shift-JIS file name
])
def test_file_names_in_any_encoding_keep_the_form(client, name, filename):
    response = _post_raw(client, [(name, filename, png_bytes(PHANTOM)), (b"pixel_size_mm", None, b"0.1")])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["calibrated"] is True


def test_field_name_in_latin_1_keeps_the_form(client):
    response = _post_raw(client, [(b"image", b"x.png", png_bytes(PHANTOM)), (b"caf\xe9", None, b"1")])
    assert response.status_code == 200


def test_too_many_fields_names_the_field_limit(client):
    parts = [(b"image", b"x.png", png_bytes(PHANTOM))] + [(b"f%d" % i, None, b"1") for i in range(2000)]
    status, code, message = error_of(_post_raw(client, parts))
    assert (status, code) == (413, "form_too_large") and "1,000 fields" in message and "MB" not in message


def test_one_large_field_names_the_field_size_limit(client):
    parts = [(b"image", b"x.png", png_bytes(PHANTOM)), (b"note", None, b"x" * 600_000)]
    status, code, message = error_of(_post_raw(client, parts))
    assert (status, code) == (413, "form_too_large") and "500 kB" in message and "MB" not in message


def test_large_body_names_the_body_limit(make_app):
    client = make_app(max_upload_bytes=100_000).test_client()
    status, code, message = error_of(_post_raw(client, [(b"image", b"x.bmp", b"BM" + b"\0" * 200_000)]))
    assert (status, code) == (413, "file_too_large") and "MB limit" in message


@pytest.mark.parametrize("field, value", [
    ("frame", "0_0"), ("frame", "\u0660"), ("pixel_size_mm", "0.\u0661"), ("pixel_size_mm", "1_0"),
    ("ga_weeks", "\u0662\u0660"), ("ga_days", "\uff11"),
])
def test_numbers_are_ascii_digits_only(client, field, value):
    fields = [(field.encode(), None, value.encode())] + ([(b"ga_weeks", None, b"20")] if field == "ga_days" else [])
    status, code, message = error_of(_post_raw(client, [(b"image", b"x.png", png_bytes(PHANTOM))] + fields))
    assert (status, code) == (400, "invalid_field") and f"'{field}'" in message


def test_max_pixels_default_is_what_the_decode_memory_allows():
    settings = Settings()
    assert settings.max_pixels == 12_000_000 and settings.decode_memory_mb == 200
    assert np.prod((4000, 3000)) <= settings.max_pixels
