"""The Docker image's start command, run here: gunicorn with gunicorn.conf.py, spoken to over HTTP."""
from __future__ import annotations

import pytest

from testkit.live_server import call, gunicorn_server, multipart, snapshot
from testkit.samples import PATIENT_FIELDS, PATIENT_FILE_NAME, dicom_bytes, hc18_pixels, hc18_reference


@pytest.fixture
def gunicorn(model_dir, tmp_path):
    env = {"GUNICORN_WORKERS": "1", "FETALHC_MODEL_DIR": str(model_dir)}
    with gunicorn_server(tmp_path / "gunicorn.log", env, temp_dir=tmp_path / "tmp") as server:
        yield server.url, server.log_path, server.temp


def test_gunicorn_serves_health_measurements_and_errors(gunicorn, hc18):
    url, log_path, temp = gunicorn
    temp_after_start = snapshot(temp)

    status, headers, health = call(url + "/health")
    assert status == 200 and health["status"] == "healthy" and health["model_loaded"] is True
    assert health["model"]["runtime"] == "openvino"  # the default where model.onnx is
    assert headers["X-Content-Type-Options"] == "nosniff"

    _, pixel_mm, reference_mm = hc18_reference(hc18)
    dicom = dicom_bytes(hc18_pixels(hc18), pixel_spacing_mm=pixel_mm)
    status, headers, body = call(url + "/", *multipart({"overlay": "1"}, dicom, PATIENT_FILE_NAME))
    assert status == 200, body
    assert body["circumference_mm"] == pytest.approx(reference_mm, abs=4.0)
    assert body["request_id"] == headers["X-Request-ID"] and body["overlay_png_base64"]
    request_id = body["request_id"]

    status, _, body = call(url + "/", *multipart({}, b"%PDF-1.7 not an image", PATIENT_FILE_NAME))
    assert (status, body["error"]) == (415, "unsupported_image")

    assert snapshot(temp) == temp_after_start  # nothing spooled to the temp folder
    log = log_path.read_text()
    assert f"request_id={request_id}" in log  # the worker's request log reaches gunicorn's stderr
    assert "unhandled" not in log and "Traceback" not in log
    for secret in (*PATIENT_FIELDS, PATIENT_FILE_NAME):
        assert secret not in log
