"""Uploads for the tests and bench/load_test.py, made here (PNG, DICOM, head phantoms,
broken files) or read from HC18."""
from __future__ import annotations

import csv
import io
import math
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (ExplicitVRLittleEndian, JPEGBaseline8Bit, UltrasoundImageStorage,
                         UltrasoundMultiFrameImageStorage, generate_uid)

# Patient fields planted in DICOM uploads; no log line or file may ever hold them.
PATIENT_NAME = "DOE^JANE"
PATIENT_ID = "PID-0042-SECRET"
PATIENT_BIRTH_DATE = "19900101"
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


def pil_bytes(image: Image.Image, fmt: str, **options: Any) -> bytes:
    """``image`` saved by Pillow as ``fmt`` (for modes and formats OpenCV does not write)."""
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def head_phantom(width: int, height: int, semi_axes: tuple[int, int], angle_deg: float = 20.0) -> np.ndarray:
    """A synthetic head the model finds: a bright skull ring around darker brain, on speckle."""
    rng = np.random.default_rng(width * height)
    pixels = cv2.GaussianBlur((rng.random((height, width)) * 60).astype(np.uint8), (5, 5), 0)
    centre, (a, b) = (width // 2, height // 2), semi_axes
    brain = np.zeros_like(pixels)
    cv2.ellipse(brain, centre, (int(a * 0.9), int(b * 0.9)), angle_deg, 0, 360, 80, -1)
    pixels = np.maximum(pixels, brain)
    cv2.ellipse(pixels, centre, (a, b), angle_deg, 0, 360, 230, max(4, a // 15))
    return pixels


def phantom_hc_px(semi_axes: tuple[int, int]) -> float:
    """About the HC the model reports for :func:`head_phantom` (within a few per cent): the
    perimeter (Ramanujan) of the ring's outer edge."""
    a, b = (s + max(4, semi_axes[0] // 15) / 2 for s in semi_axes)
    h = ((a - b) / (a + b)) ** 2
    return math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, idat: bytes, bit_depth: int = 8) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with hardly any pixel data behind it."""
    return _png(width, height, zlib.compress(b"\0" * 64))


def png_bomb(width: int, height: int, bit_depth: int = 8) -> bytes:
    """A complete, valid black PNG of ``width`` x ``height``: about 1,000 times smaller than its pixels."""
    compressor, row = zlib.compressobj(9), b"\0" * (width * bit_depth // 8 + 1)  # filter byte + zeros
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return _png(width, height, idat, bit_depth)


def many_page_tiff(pages: int, side: int = 16) -> bytes:
    """A TIFF of ``pages`` black pages that share one strip: about 100 bytes a page."""
    strip = b"\0" * side * side
    tags = [(256, 3, side), (257, 3, side), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 8),
            (278, 3, side), (279, 4, len(strip))]  # size, 8 bits, uncompressed, black is 0, one strip
    ifd_size, first = 2 + 12 * len(tags) + 4, 8 + len(strip)
    entries = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", t, kind, 1, v) for t, kind, v in tags)
    ifds = [entries + struct.pack("<I", first + (i + 1) * ifd_size if i + 1 < pages else 0) for i in range(pages)]
    return b"II*\0" + struct.pack("<I", first) + strip + b"".join(ifds)


def _dataset(sop: str, transfer_syntax: str = ExplicitVRLittleEndian) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "US"
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = PATIENT_BIRTH_DATE
    return ds


def _save(ds: Dataset, **options: Any) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True, **options)
    return buf.getvalue()


def _set(ds: Dataset, attributes: dict[str, Any]) -> Dataset:
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def dicom_bytes(pixels: np.ndarray, pixel_spacing_mm: float | None = None, photometric: str = "MONOCHROME2",
                **attributes: Any) -> bytes:
    """Uncompressed ultrasound DICOM of ``pixels`` with patient fields and any further ``attributes``
    (keyword: value). ``pixels`` is rows x cols (x samples for colour), with a leading frame axis for
    a cine; its dtype gives the bit depth."""
    multi = pixels.ndim == (3 if photometric.startswith("MONOCHROME") else 4)
    ds = _dataset(UltrasoundMultiFrameImageStorage if multi else UltrasoundImageStorage)
    ds.set_pixel_data(pixels, photometric, pixels.dtype.itemsize * 8, generate_instance_uid=False)
    if pixel_spacing_mm is not None:
        ds.PixelSpacing = [pixel_spacing_mm, pixel_spacing_mm]
    return _save(_set(ds, attributes))


def us_region(width: int, height: int, delta_cm: float | tuple[float, float], units: int = 3, *,
              box: tuple[int, int, int, int] | None = None, spatial_format: int = 1) -> Dataset:
    """One region of a DICOM ``SequenceOfUltrasoundRegions``: ``box`` (x0, y0, x1, y1; default the
    whole ``width`` x ``height`` image), pixel size ``delta_cm`` (one value, or x and y) in ``units``
    (3: cm, 0: none, 4: seconds), ``spatial_format`` 1 for 2D tissue (3: spectral Doppler)."""
    dx, dy = delta_cm if isinstance(delta_cm, tuple) else (delta_cm, delta_cm)
    region = Dataset()
    region.RegionSpatialFormat = spatial_format
    region.RegionDataType = 1
    region.RegionFlags = 0
    x0, y0, x1, y1 = box or (0, 0, width - 1, height - 1)
    region.RegionLocationMinX0, region.RegionLocationMinY0 = x0, y0
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = x1, y1
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = units
    region.PhysicalDeltaX, region.PhysicalDeltaY = dx, dy
    return region


def dicom_jpeg_baseline(frames_rgb: list[np.ndarray]) -> bytes:
    """A multi-frame ultrasound DICOM in JPEG Baseline (YBR_FULL_422) of the RGB ``frames_rgb``."""
    ds = _dataset(UltrasoundMultiFrameImageStorage, JPEGBaseline8Bit)
    ds.Rows, ds.Columns = frames_rgb[0].shape[:2]
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = len(frames_rgb)
    ds.LossyImageCompression = "01"
    # Pillow writes YCbCr JPEG; subsampling=1 is 4:2:2, matching YBR_FULL_422.
    ds.PixelData = encapsulate([pil_bytes(Image.fromarray(f), "JPEG", quality=95, subsampling=1)
                                for f in frames_rgb])
    ds["PixelData"].VR = "OB"
    return _save(ds)


def dicom_compressed(transfer_syntax: str, width: int = 80, height: int = 64) -> bytes:
    """A DICOM image whose pixel data is encapsulated in ``transfer_syntax`` (the codestream is noise;
    the syntax may be one pydicom does not know)."""
    ds = _dataset(UltrasoundImageStorage, transfer_syntax)
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = height, width, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = encapsulate([np.random.default_rng(0).bytes(500)])
    ds["PixelData"].VR = "OB"
    return _save(ds, implicit_vr=False, little_endian=True)


def dicom_without_image(**attributes: Any) -> bytes:
    """A DICOM object with patient fields, any further ``attributes`` and no pixel data (like a
    structured report)."""
    return _save(_set(_dataset(UltrasoundImageStorage), attributes))


def hc18_reference(hc18: Path, name: str = HC18_IMAGE) -> tuple[bytes, float, float]:
    """(PNG bytes, pixel size in mm, reference HC in mm) of one HC18 training image."""
    with open(hc18 / "training_set_pixel_size_and_HC.csv", newline="") as f:
        row = next(r for r in csv.reader(f) if r[0] == name)
    return (hc18 / "training_set" / name).read_bytes(), float(row[1]), float(row[2])


def hc18_pixels(hc18: Path, name: str = HC18_IMAGE) -> np.ndarray:
    return cv2.imread(str(hc18 / "training_set" / name), cv2.IMREAD_GRAYSCALE)


JSON = {"Accept": "application/json"}
# What Chromium and Firefox send with a form post or a navigation.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def error_of(response) -> tuple[int, str, str]:
    """(status, error code, message) of a JSON error answer, after checking its shape."""
    body = response.get_json()
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    assert body["status"] == "error" and set(body) == {"status", "error", "message", "request_id"}
    assert body["request_id"] == response.headers["X-Request-ID"]
    return response.status_code, body["error"], body["message"]


def upload(data: bytes, name: str = "image.png") -> tuple[io.BytesIO, str]:
    """A multipart file field for Flask's test client."""
    return io.BytesIO(data), name


def page_csrf_token(client) -> str:
    """GET / like a browser and return the form's CSRF token (the client keeps the session cookie)."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
