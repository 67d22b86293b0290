"""Uploads stay in memory and out of the logs: no file written, no patient field or file name logged."""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from pathlib import Path

import pytest
from flask import has_request_context

from fetalhc.paths import PROJECT_ROOT
from fetalhc.web.answer import sandbox_for
from fetalhc.web.config import app_settings
from testkit.samples import (BROWSER, JSON, PATIENT_FIELDS, PATIENT_FILE_NAME, black_bmp, dicom_bytes, dicom_without_image,
                             hc18_pixels, hc18_reference, page_csrf_token, upload)

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


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_opened_for_writing: list[str] | None = None  # collecting while a test uses `file_writes`
_hook_added = False


def _audit(event: str, args: tuple) -> None:
    # Only while the app handles a request: the test client spools large bodies it sends itself.
    if event == "open" and _opened_for_writing is not None and has_request_context():
        path, _, flags = args
        if flags & _WRITE_FLAGS:
            _opened_for_writing.append(str(path))


@pytest.fixture
def file_writes():
    """Every file the app opens for writing during the test, wherever it is and even if it is
    unlinked at once (a temporary file shows in no listing): Python's audit hook sees every
    open() and os.open(). The hook stays for the session (hooks cannot be removed) but collects
    only during tests that use this fixture."""
    global _opened_for_writing, _hook_added
    if not _hook_added:
        sys.addaudithook(_audit)
        _hook_added = True
    _opened_for_writing = []
    yield _opened_for_writing
    _opened_for_writing = None


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """A fresh, empty temp folder for this process."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


# The request log line: the id, sizes and timings only.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}={0,2}")
_REQUEST_LINE = re.compile(r"request_id=[0-9a-f]{32} method=POST path=/ status=\d{3} in_bytes=\d+ out_bytes=\d+ "
                           r"ms=[\d.]+")


def test_uploads_leave_no_file_and_no_patient_data_in_the_logs(client, hc18, temp_folder, file_writes, caplog):
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
    # The decoding sandbox started as a gunicorn worker starts it (gunicorn.conf.py), before the first
    # upload and outside any request: starting it opens /dev/null for the decoder's stderr, which is no
    # upload written anywhere. Every request below is then checked alike, whichever tests ran before.
    with client.application.app_context():
        sandbox_for(app_settings()).start()
    before = snapshot(PROJECT_ROOT)
    responses = []
    with caplog.at_level(logging.DEBUG):
        for data, status in uploads:
            response = client.post("/", data={"image": upload(data, PATIENT_FILE_NAME), "overlay": "1"}, headers=JSON)
            assert response.status_code == status, response.get_json()
            responses.append(response)
        token = page_csrf_token(client)  # and once through the HTML form
        response = client.post("/", data={"image": upload(dicom, PATIENT_FILE_NAME), "csrf_token": token},
                               headers=BROWSER)
        assert response.status_code == 200
        responses.append(response)
    assert snapshot(PROJECT_ROOT) == before
    assert not list(temp_folder.iterdir())
    assert file_writes == []
    assert len(uploads[4][0]) > 500 * 1024
    logged = caplog.text
    for secret in (*PATIENT_FIELDS, PATIENT_FILE_NAME, "PID-0042"):
        assert secret not in logged
    # One line per request with its id, sizes and time; no line long enough to carry pixels.
    request_lines = [r.getMessage() for r in caplog.records if r.name == "fetalhc.web.requestlog"
                     and "method=POST" in r.getMessage()]
    assert len(request_lines) == len(responses) and all(_REQUEST_LINE.fullmatch(line) for line in request_lines)
    assert {line.split()[0] for line in request_lines} == {f"request_id={r.headers['X-Request-ID']}" for r in responses}
    assert max(len(r.getMessage()) for r in caplog.records) < 300
    # The overlays came back in the answers; nothing about the patient did.
    overlays = [r.get_json()["overlay_png_base64"] for r in responses[:2]]
    assert all(o.startswith("iVBOR") and o[:64] not in logged for o in overlays)  # a PNG, not logged
    assert "data:image/png;base64,iVBOR" in responses[-1].get_data(as_text=True)
    for response in responses:
        # Base64 image data is left out: a 600 kB overlay holds "DOE" by chance.
        answer = _BASE64_RUN.sub("", response.get_data(as_text=True)) + str(response.headers)
        assert not any(s in answer for s in (*PATIENT_FIELDS, PATIENT_FILE_NAME))


def test_app_code_never_writes_files():
    """Also for code paths the test above does not take."""
    for path in (PROJECT_ROOT / "fetalhc" / "web").glob("*.py"):
        # zips.py reads an entry of a zip held in memory (read-only, no file behind it).
        text = path.read_text().replace("archive.open(info)", "")
        assert ".save(" not in text and "open(" not in text, path.name
