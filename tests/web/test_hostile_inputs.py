"""Hostile and odd uploads, made here: each gets its decided answer, never a 500, and the next
valid upload is still measured.

Broken or disguised files, bombs and out-of-range frames are 4xx JSON errors whose message says
what to do. Valid images in unusual encodings (16-bit, CMYK, RGBA, palette, multi-page TIFF,
wrong file extension) are measured like the plain PNG they came from. A DICOM whose calibration
is nonsense is measured uncalibrated, in pixels, never in millimetres.
"""
from __future__ import annotations

import functools
import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image
from pydicom.pixels import get_decoder
from pydicom.uid import HTJ2KLossless

from fetalhc.imaging.raster import MAX_TIFF_PAGES
from testkit.samples import (JSON, dicom_bytes, dicom_compressed, dicom_without_image, error_of, head_phantom,
                             many_page_tiff, phantom_hc_px, pil_bytes, png_bomb, png_bytes, png_header_only, upload,
                             us_region)

SEMI_AXES = (120, 95)
WIDTH, HEIGHT = 400, 300
PHANTOM = head_phantom(WIDTH, HEIGHT, SEMI_AXES)
BLACK = np.zeros_like(PHANTOM)
SUPPORTED = "PNG, JPEG, BMP, TIFF or DICOM"


@dataclass(frozen=True)
class Case:
    """An upload and its decided answer: ``code`` None is a measurement (200)."""

    make: Callable[[], bytes]
    status: int
    code: str | None = None
    says: str = ""                  # part of the error message
    fields: dict[str, str] = field(default_factory=dict)
    filename: str = "image.png"
    calibrated: bool = False        # for measurements


def _phantom_png() -> bytes:
    return png_bytes(PHANTOM)


def _jpeg(pixels: np.ndarray = PHANTOM, mode: str = "L") -> bytes:
    return pil_bytes(Image.fromarray(pixels).convert(mode), "JPEG", quality=95)


def _flip_bytes(data: bytes, start: int, step: int) -> bytes:
    damaged = bytearray(data)
    for i in range(start, len(data) - 16, step):
        damaged[i] ^= 0x55
    return bytes(damaged)


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims another size."""
    data = bytearray(_jpeg())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def _zip_of_png() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("scan.png", _phantom_png())
    return buf.getvalue()


def _pages(*pixels: np.ndarray, fmt: str = "TIFF") -> bytes:
    first, *rest = (Image.fromarray(p) for p in pixels)
    return pil_bytes(first, fmt, save_all=True, append_images=rest)


def _dicom_header_claiming(rows: int, columns: int) -> bytes:
    return dicom_bytes(PHANTOM, Rows=rows, Columns=columns)


def _dicom_region(delta_cm: float, units: int) -> bytes:
    return dicom_bytes(PHANTOM, SequenceOfUltrasoundRegions=[us_region(WIDTH, HEIGHT, delta_cm, units)])


def _above_upload_limit() -> bytes:
    return b"\0" * (32 * 1024 * 1024 + 1)


def _rejected(make: Callable[[], bytes], says: str, status: int = 415, code: str = "unsupported_image",
              **kwargs) -> Case:
    return Case(make, status, code, says, **kwargs)


def _measured(make: Callable[[], bytes], **kwargs) -> Case:
    return Case(make, 200, **kwargs)


CASES: dict[str, Case] = {
    # Empty, missing and truncated.
    "empty file": _rejected(lambda: b"", "empty"),
    "zero-length image field": _rejected(lambda: b"", "'image'", 400, "missing_image", filename=""),
    "empty optional fields": _measured(_phantom_png, fields=dict.fromkeys(
        ("pixel_size_mm", "ga_weeks", "ga_days", "frame", "overlay"), "")),
    "truncated PNG": _rejected(lambda: _phantom_png()[:5000], "ends before"),
    "truncated JPEG": _rejected(lambda: _jpeg()[:3000], "ends before"),
    "corrupted PNG": _rejected(lambda: _flip_bytes(_phantom_png(), 200, 97), "damaged"),
    "corrupted JPEG": _rejected(lambda: (lambda j: _flip_bytes(j, len(j) // 2, 37))(_jpeg()), "damaged"),
    # Disguised: the format is read from the bytes, never from the name.
    "text as PNG": _rejected(lambda: b"just some text, not an image\n" * 20, SUPPORTED),
    "HTML as JPEG": _rejected(lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
                              SUPPORTED, filename="scan.jpg"),
    "ZIP as PNG": _rejected(_zip_of_png, SUPPORTED),
    "PDF as DICOM": _rejected(lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", SUPPORTED,
                              filename="scan.dcm"),
    "PNG named .dcm": _measured(_phantom_png, filename="scan.dcm"),
    "DICOM named .jpg": _measured(lambda: dicom_bytes(PHANTOM), filename="scan.jpg"),
    "animated GIF": _rejected(lambda: _pages(PHANTOM, BLACK, fmt="GIF"), SUPPORTED, filename="scan.gif"),
    # Sizes: rejected from the header, before the pixels are decoded.
    "PNG bomb 10000x5000": _rejected(lambda: png_bomb(10_000, 5_000), "10000×5000 pixels, above the limit"),
    "16-bit PNG 4000x3000 (within the limit)": _rejected(lambda: png_bomb(4_000, 3_000, bit_depth=16), "fetal head",
                                                        422, "no_head_found"),
    "PNG header 1x1": _rejected(lambda: png_header_only(1, 1), "at least 16 pixels"),
    "PNG header 20000x20000": _rejected(lambda: png_header_only(20_000, 20_000), "above the limit"),
    "JPEG header 20000x20000": _rejected(lambda: _jpeg_claiming(20_000, 20_000), "above the limit"),
    "DICOM header 20000x20000": _rejected(lambda: _dicom_header_claiming(20_000, 20_000), "above the limit"),
    "upload above 32 MB": _rejected(_above_upload_limit, "32 MB", 413, "file_too_large"),
    # Valid images in unusual encodings: measured as the PNG they came from.
    "16-bit PNG": _measured(lambda: png_bytes(PHANTOM.astype(np.uint16) * 257)),
    "CMYK JPEG": _measured(lambda: _jpeg(mode="CMYK"), filename="scan.jpg"),
    "RGBA PNG": _measured(lambda: pil_bytes(Image.fromarray(PHANTOM).convert("RGBA"), "PNG")),
    "palette PNG": _measured(lambda: pil_bytes(Image.fromarray(PHANTOM).convert("P"), "PNG")),
    "animated PNG is its first frame": _measured(lambda: _pages(PHANTOM, BLACK, fmt="PNG")),
    "animated PNG frame 1": _rejected(lambda: _pages(PHANTOM, BLACK, fmt="PNG"), "'frame'", 400, "invalid_frame",
                                      fields={"frame": "1"}),
    # Frames: a page of a TIFF, a frame of a cine DICOM, or a 400 naming the field.
    "multi-page TIFF page 1": _measured(lambda: _pages(BLACK, PHANTOM), fields={"frame": "1"}, filename="scan.tif"),
    "multi-page TIFF page 0 (black)": _rejected(lambda: _pages(BLACK, PHANTOM), "fetal head", 422, "no_head_found"),
    "multi-page TIFF page 2": _rejected(lambda: _pages(BLACK, PHANTOM), "between 0 and 1", 400, "invalid_frame",
                                        fields={"frame": "2"}),
    f"TIFF of {5 * MAX_TIFF_PAGES} pages": _rejected(lambda: many_page_tiff(5 * MAX_TIFF_PAGES, side=64),
                                                     f"more than {MAX_TIFF_PAGES} pages"),
    "cine DICOM frame 1": _measured(lambda: dicom_bytes(np.stack([BLACK, PHANTOM])), fields={"frame": "1"}),
    "cine DICOM frame 2": _rejected(lambda: dicom_bytes(np.stack([BLACK, PHANTOM])), "'frame'", 400, "invalid_frame",
                                    fields={"frame": "2"}),
    "frame 10^20": _rejected(_phantom_png, "'frame'", 400, "invalid_frame", fields={"frame": "1" + "0" * 20}),
    # DICOM files that hold no usable image.
    "DICOM without pixel data": _rejected(dicom_without_image, "contains no image"),
    "DICOM in HTJ2K (decoder not installed)": _rejected(lambda: dicom_compressed(HTJ2KLossless), "transfer syntax"),
    "DICOM claiming 10^9 frames": _rejected(lambda: dicom_bytes(PHANTOM, NumberOfFrames=10 ** 9), "ends before"),
    # DICOM calibration: a sound one gives millimetres; nonsense is ignored (pixels).
    "DICOM pixel spacing 0.1 mm": _measured(lambda: dicom_bytes(PHANTOM, 0.1), calibrated=True),
    "DICOM pixel spacing 0": _measured(lambda: dicom_bytes(PHANTOM, 0.0)),
    "DICOM pixel spacing negative": _measured(lambda: dicom_bytes(PHANTOM, -0.1)),
    "DICOM pixel spacing 1e-6 mm": _measured(lambda: dicom_bytes(PHANTOM, 1e-6)),
    "DICOM pixel spacing 50 mm": _measured(lambda: dicom_bytes(PHANTOM, 50.0)),
    "DICOM region in cm": _measured(lambda: _dicom_region(0.01, units=3), calibrated=True),
    "DICOM region delta 0 cm": _measured(lambda: _dicom_region(0.0, units=3)),
    "DICOM region in seconds": _measured(lambda: _dicom_region(0.01, units=4)),
    "DICOM region without units": _measured(lambda: _dicom_region(0.01, units=0)),
}


@functools.cache
def _data(name: str) -> bytes:
    return CASES[name].make()


def post(client, data: bytes, fields: dict[str, str] | None = None, filename: str = "image.png"):
    return client.post("/", data={"image": upload(data, filename), **(fields or {})}, headers=JSON)


@pytest.fixture(scope="module")
def reference_px(app) -> float:
    """The phantom's HC as measured from the plain PNG: every re-encoding must give the same."""
    body = post(app.test_client(), _phantom_png()).get_json()
    assert body["circumference_px"] == pytest.approx(phantom_hc_px(SEMI_AXES), rel=0.03)
    return body["circumference_px"]


def assert_still_measures(client, reference_px: float) -> None:
    response = post(client, _phantom_png())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["circumference_px"] == reference_px


def test_htj2k_decoder_is_absent():
    """The HTJ2K case stands for "a compressed transfer syntax whose decoder is not installed"."""
    assert not get_decoder(HTJ2KLossless).is_available


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_upload_gets_its_answer(client, reference_px, name):
    case = CASES[name]
    response = post(client, _data(name), case.fields, case.filename)
    if case.code is None:
        body = response.get_json()
        assert response.status_code == 200, body
        assert body["circumference_px"] == pytest.approx(reference_px, rel=0.01)
        assert body["calibrated"] is case.calibrated
        assert body["circumference_unit"] == ("mm" if case.calibrated else "px")
        if case.calibrated:  # both sound calibrations are 0.1 mm per pixel
            assert body["circumference_mm"] == pytest.approx(0.1 * body["circumference_px"], rel=1e-3)
        else:
            assert body["circumference_mm"] is None and body["pixel_size_mm"] is None
    else:
        status, code, message = error_of(response)
        assert (status, code) == (case.status, case.code), message
        assert case.says in message
        assert message.endswith(".") and "Traceback" not in message and "Error" not in message
    assert_still_measures(client, reference_px)


# --- property-based fuzzing ------------------------------------------------------------------

FUZZ_PHANTOM = head_phantom(160, 120, (50, 40))


@functools.cache
def fuzz_seeds() -> dict[str, bytes]:
    image = Image.fromarray(FUZZ_PHANTOM)
    return {"png": png_bytes(FUZZ_PHANTOM), "jpeg": pil_bytes(image, "JPEG"), "bmp": pil_bytes(image, "BMP"),
            "tiff": _pages(FUZZ_PHANTOM, BLACK), "dicom": dicom_bytes(FUZZ_PHANTOM, 0.1)}


@st.composite
def mutated_images(draw) -> bytes:
    """A valid image with 1 to 4 bit flips, overwrites, insertions, deletions or a truncation;
    half of them in the first 256 bytes, where the headers are."""
    data = bytearray(fuzz_seeds()[draw(st.sampled_from(sorted(fuzz_seeds())))])
    for _ in range(draw(st.integers(1, 4))):
        if len(data) < 2:
            break
        end = len(data) - 1
        pos = draw(st.one_of(st.integers(0, min(255, end)), st.integers(0, end)))
        kind = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "truncate"]))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            data[pos:pos + 4] = draw(st.binary(min_size=4, max_size=4))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        else:
            del data[max(pos, 1):]
    return bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on the damaged files it still reads
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated_images(), frame=st.sampled_from(["", "0", "1"]))
def test_fuzzed_images_get_a_measurement_or_a_4xx(app, data, frame):
    response = post(app.test_client(), data, {"frame": frame})
    event(f"HTTP {response.status_code}")  # the mix shows with --hypothesis-show-statistics
    if response.status_code == 200:
        assert math.isfinite(response.get_json()["circumference_px"])
    else:
        status, code, message = error_of(response)
        assert (status, code) in {(400, "invalid_frame"), (415, "unsupported_image"), (422, "no_head_found"),
                                  (422, "not_ultrasound")}
        assert message


def test_valid_upload_after_fuzzing(client, reference_px):
    assert_still_measures(client, reference_px)
