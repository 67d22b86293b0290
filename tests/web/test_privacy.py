"""Uploads stay in memory and out of the logs: no file written, no patient field or file name logged."""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest
from web_samples import (JSON, PATIENT_FIELDS, PATIENT_FILE_NAME, black_bmp, dicom_bytes, dicom_without_image,
                         hc18_pixels, hc18_reference, page_csrf_token, upload)

from fetalhc.paths import PROJECT_ROOT

# Written by tools, not by the app: version control, the virtualenv, training runs, caches.
_NOT_THE_APPS = {".git", ".venv", "runs", ".pytest_cache", "__pycache__", ".ipynb_checkpoints"}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    files = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _NOT_THE_APPS and not d.endswith(".egg-info")]
        for name in names:
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except FileNotFoundError:  # removed while walking
                continue
            files[path] = (st.st_size, st.st_mtime_ns)
    return files


def _refuse(*args, **kwargs):
    raise AssertionError("an upload was about to be written to a temporary file")


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """A fresh, empty temp folder for this process; and the temp-file functions disarmed, since
    an unlinked temporary file (what Werkzeug spools large uploads to) shows in no listing."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, _refuse)
    return folder


def test_uploads_leave_no_file_and_no_patient_data_in_the_logs(client, hc18, temp_folder, caplog):
    png, pixel_mm, _ = hc18_reference(hc18)
    dicom = dicom_bytes(hc18_pixels(hc18), pixel_spacing_mm=pixel_mm)
    uploads = [
        (png, 200),
        (dicom, 200),                                   # measured, patient fields in the header
        (dicom_bytes(hc18_pixels(hc18)[:100, :100]), 422),  # no head
        (dicom_without_image(), 415),                   # rejected on its header
        (black_bmp(900, 700), 422),                     # above Werkzeug's 500 kB spooling threshold
        (b"not an image", 415),
    ]
    before = snapshot(PROJECT_ROOT)
    with caplog.at_level(logging.DEBUG):
        for data, status in uploads:
            response = client.post("/", data={"image": upload(data, PATIENT_FILE_NAME), "overlay": "1"}, headers=JSON)
            assert response.status_code == status, response.get_json()
        token = page_csrf_token(client)  # and once through the HTML form
        response = client.post("/", data={"image": upload(dicom, PATIENT_FILE_NAME), "csrf_token": token})
        assert response.status_code == 200
    assert snapshot(PROJECT_ROOT) == before
    assert not list(temp_folder.iterdir())
    assert len(uploads[4][0]) > 500 * 1024
    logged = caplog.text
    assert "request_id=" in logged  # the request log ran
    for secret in (*PATIENT_FIELDS, PATIENT_FILE_NAME, "PID-0042"):
        assert secret not in logged
    # Nor does any answer echo them.
    assert not any(s in response.get_data(as_text=True) for s in PATIENT_FIELDS)


def test_app_code_never_writes_files():
    """Also for code paths the test above does not take."""
    for path in (PROJECT_ROOT / "fetalhc" / "web").glob("*.py"):
        text = path.read_text()
        assert ".save(" not in text and "open(" not in text, path.name
