"""Uploads for the web tests, made here (PNG, DICOM, broken files) or read from HC18."""
from __future__ import annotations

import csv
import io
import re
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, UltrasoundMultiFrameImageStorage, generate_uid

# Patient fields planted in DICOM uploads; no log line or file may ever hold them.
PATIENT_NAME = "DOE^JANE"
PATIENT_ID = "PID-0042-SECRET"
PATIENT_FIELDS = (PATIENT_NAME, "DOE", "JANE", PATIENT_ID)
# A file name that would identify a patient if it were logged.
PATIENT_FILE_NAME = "DOE_JANE_PID-0042-SECRET.png"

HC18_IMAGE = "010_HC.png"


def png_bytes(pixels: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", pixels)
    assert ok
    return buf.tobytes()


def black_png(width: int = 400, height: int = 300) -> bytes:
    """An image with nothing in it: the model finds no head."""
    return png_bytes(np.zeros((height, width), np.uint8))


def black_bmp(width: int, height: int) -> bytes:
    """Like :func:`black_png` but uncompressed: about ``width * height`` bytes."""
    ok, buf = cv2.imencode(".bmp", np.zeros((height, width), np.uint8))
    assert ok
    return buf.tobytes()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with hardly any pixel data behind it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _dataset(sop: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = "19900101"
    return ds


def _save(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def dicom_bytes(pixels: np.ndarray, pixel_spacing_mm: float | None = None) -> bytes:
    """Uncompressed ultrasound DICOM of 2D ``pixels`` (or frames x rows x cols), with patient fields."""
    multi = pixels.ndim == 3
    ds = _dataset(UltrasoundMultiFrameImageStorage if multi else UltrasoundImageStorage)
    ds.set_pixel_data(pixels, "MONOCHROME2", 8, generate_instance_uid=False)
    if pixel_spacing_mm is not None:
        ds.PixelSpacing = [pixel_spacing_mm, pixel_spacing_mm]
    return _save(ds)


def dicom_without_image() -> bytes:
    """A DICOM object with patient fields and no pixel data (like a structured report)."""
    return _save(_dataset(UltrasoundImageStorage))


def hc18_reference(hc18: Path, name: str = HC18_IMAGE) -> tuple[bytes, float, float]:
    """(PNG bytes, pixel size in mm, reference HC in mm) of one HC18 training image."""
    with open(hc18 / "training_set_pixel_size_and_HC.csv", newline="") as f:
        row = next(r for r in csv.reader(f) if r[0] == name)
    return (hc18 / "training_set" / name).read_bytes(), float(row[1]), float(row[2])


def hc18_pixels(hc18: Path, name: str = HC18_IMAGE) -> np.ndarray:
    return cv2.imread(str(hc18 / "training_set" / name), cv2.IMREAD_GRAYSCALE)


JSON = {"Accept": "application/json"}


def upload(data: bytes, name: str = "image.png") -> tuple[io.BytesIO, str]:
    """A multipart file field for Flask's test client."""
    return io.BytesIO(data), name


def page_csrf_token(client) -> str:
    """GET / like a browser and return the form's CSRF token (the client keeps the session cookie)."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
