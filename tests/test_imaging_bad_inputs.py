"""Inputs load_image must refuse, each with its own error code, and fuzzed files that must load
or raise ImageLoadError, never anything else."""
from __future__ import annotations

import io
import random

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import JPEG2000

from fetalhc.imaging import ImageLoadError, load_image
from testkit.imaging import COLS, ROWS, WHOLE, compressed, load_error, pattern, region
from testkit.samples import dicom_bytes, dicom_jpeg_baseline, dicom_without_image, pil_bytes, png_header_only

ERROR_CODES = {"empty", "not_an_image", "truncated", "too_large", "bad_dimensions", "unsupported_dicom", "bad_frame"}


def test_empty() -> None:
    assert load_error(b"").code == "empty"


@pytest.mark.parametrize("data", [random.Random(0).randbytes(5000), b"hello, this is text", b"%PDF-1.7\n" + b"x" * 300])
def test_not_an_image_lists_formats(data: bytes) -> None:
    err = load_error(data)
    assert err.code == "not_an_image"
    assert "PNG, JPEG, BMP, TIFF or DICOM" in err.message


def test_headerless_dicom_without_pixels_is_not_an_image() -> None:
    ds = Dataset()
    ds.Modality = "US"
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True)
    assert load_error(buf.getvalue()).code == "not_an_image"


@pytest.mark.parametrize("pil_format", ["PNG", "JPEG", "BMP", "TIFF"])
def test_truncated_pillow_image(pil_format: str) -> None:
    data = pil_bytes(Image.fromarray(pattern()), pil_format)
    err = load_error(data[: len(data) // 2])
    assert err.code == "truncated"
    assert "Export the image again" in err.message


def test_truncated_dicom() -> None:
    data = dicom_bytes(pattern())
    assert load_error(data[: len(data) // 2]).code == "truncated"
    header_only = data[: data.index(b"\xe0\x7f\x10\x00")]  # cut just before the Pixel Data tag
    assert load_error(header_only).code == "truncated"


def test_dicom_without_pixel_data() -> None:
    assert load_error(dicom_without_image(StudyDescription="report")).code == "unsupported_dicom"


@pytest.mark.parametrize("ts", ["1.2.3.4.5", JPEG2000])
def test_unsupported_transfer_syntax(ts: str) -> None:
    err = load_error(compressed(ts))
    assert err.code == "unsupported_dicom"
    assert "JPEG Baseline" in err.message


def test_png_decompression_bomb_header() -> None:
    assert load_error(png_header_only(100_000, 100_000)).code == "too_large"


def test_oversized_side_rejected_from_header() -> None:
    assert load_error(png_header_only(20_000, 100)).code == "bad_dimensions"


def test_max_pixels() -> None:
    data = pil_bytes(Image.fromarray(pattern()), "PNG")
    assert load_error(data, max_pixels=ROWS * COLS - 1).code == "too_large"
    assert load_image(data, max_pixels=ROWS * COLS).width == COLS


@pytest.mark.parametrize("size", [(1, 1), (15, 100), (100, 15)])
def test_tiny_image(size: tuple[int, int]) -> None:
    assert load_error(pil_bytes(Image.new("L", size), "PNG")).code == "bad_dimensions"


def test_tiny_dicom() -> None:
    assert load_error(dicom_bytes(np.zeros((1, 1), np.uint8))).code == "bad_dimensions"


@pytest.mark.parametrize("frame", [-1, 1])
def test_bad_frame_single_image(frame: int) -> None:
    data = pil_bytes(Image.fromarray(pattern()), "PNG")
    assert load_error(data, frame=frame).code == "bad_frame"


# --- fuzz ----------------------------------------------------------------------------------


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    kind = rng.randrange(4)
    if kind == 0:
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(buf))
            buf[pos] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del buf[rng.randrange(1, len(buf)) :]
    elif kind == 2:
        pos = rng.randrange(len(buf))
        buf[pos : pos + 4] = rng.randbytes(4)
    else:
        pos = rng.randrange(len(buf))
        buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
    return bytes(buf)


@pytest.mark.parametrize(
    "name",
    ["png", "dicom", "dicom_jpeg"],
)
def test_fuzzed_inputs_load_or_raise_image_load_error(name: str) -> None:
    if name == "png":
        seed = pil_bytes(Image.fromarray(pattern()), "PNG")
    elif name == "dicom":
        regions = [region(WHOLE, (0.012, 0.012))]
        seed = dicom_bytes(pattern(), SequenceOfUltrasoundRegions=regions, PixelSpacing=[0.1, 0.1])
    else:
        seed = dicom_jpeg_baseline([np.stack([pattern()] * 3, axis=-1)])
    rng = random.Random(name)
    for _ in range(200):
        data = _mutate(seed, rng)
        try:
            img = load_image(data)
        except ImageLoadError as exc:
            assert exc.code in ERROR_CODES
            continue
        assert img.pixels.ndim == 2 and img.pixels.dtype == np.uint8 and img.pixels.flags.c_contiguous
