"""Tests for fetalhc.imaging.loader: every input is built here, no data files."""
from __future__ import annotations

import io
import logging
import random

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import JPEG2000

from fetalhc.imaging import ImageLoadError, LoadedImage, PixelSpacing, load_image, load_image_file
from testkit.samples import (PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME, dicom_bytes, dicom_compressed,
                             dicom_jpeg_baseline, dicom_without_image, pil_bytes, png_header_only, us_region)

ROWS, COLS = 64, 80  # not square, so a transposed result cannot pass
WHOLE = (0, 0, COLS - 1, ROWS - 1)  # an ultrasound region covering the whole image
PHI = (PATIENT_NAME, PATIENT_ID, PATIENT_BIRTH_DATE)
ERROR_CODES = {"empty", "not_an_image", "truncated", "too_large", "bad_dimensions", "unsupported_dicom", "bad_frame"}


def _pattern() -> np.ndarray:
    """Dark gradient background with a bright square in the top-left corner."""
    g = np.tile(np.linspace(20, 90, COLS), (ROWS, 1)).astype(np.uint8)
    g[:16, :16] = 250
    return g


def _assert_pattern(img: LoadedImage) -> None:
    px = img.pixels
    assert px.shape == (ROWS, COLS)
    assert px.dtype == np.uint8
    assert px.flags.c_contiguous
    assert px[2:14, 2:14].mean() > 200  # bright square stayed top-left
    assert px[-16:, -16:].mean() < 150
    assert px[-16:, :16].mean() < 150
    assert px[:16, -16:].mean() < 150


# --- Pillow formats ------------------------------------------------------------------------


def _in_mode(mode: str) -> Image.Image:
    g = _pattern()
    if mode == "L":
        return Image.fromarray(g)
    if mode == "RGB":
        return Image.fromarray(np.stack([g, g, g // 2], axis=-1))
    if mode == "RGBA":
        alpha = np.full_like(g, 128)
        return Image.fromarray(np.stack([g, g, g, alpha], axis=-1))
    if mode == "LA":
        return Image.merge("LA", [Image.fromarray(g), Image.fromarray(np.full_like(g, 200))])
    if mode == "P":
        levels = np.unique(g)
        im = Image.fromarray(np.searchsorted(levels, g).astype(np.uint8))
        im.putpalette(np.stack([levels, levels, levels // 2], axis=-1).tobytes())
        return im
    if mode == "1":
        return Image.fromarray(np.where(g > 128, 255, 0).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)
    if mode == "I;16":
        return Image.fromarray(g.astype(np.uint16) * 257)
    if mode == "I":
        return Image.fromarray(g.astype(np.int32) * 1000 - 50_000)
    if mode == "F":
        return Image.fromarray(g.astype(np.float32) / 255.0)
    raise AssertionError(mode)


PILLOW_CASES = [
    ("PNG", "png", "L"),
    ("PNG", "png", "RGB"),
    ("PNG", "png", "RGBA"),
    ("PNG", "png", "LA"),
    ("PNG", "png", "P"),
    ("PNG", "png", "1"),
    ("PNG", "png", "I;16"),
    ("JPEG", "jpeg", "L"),
    ("JPEG", "jpeg", "RGB"),
    ("BMP", "bmp", "L"),
    ("BMP", "bmp", "RGB"),
    ("BMP", "bmp", "RGBA"),
    ("BMP", "bmp", "P"),
    ("BMP", "bmp", "1"),
    ("TIFF", "tiff", "L"),
    ("TIFF", "tiff", "RGB"),
    ("TIFF", "tiff", "RGBA"),
    ("TIFF", "tiff", "P"),
    ("TIFF", "tiff", "1"),
    ("TIFF", "tiff", "I;16"),
    ("TIFF", "tiff", "I"),
    ("TIFF", "tiff", "F"),
]


@pytest.mark.parametrize(("pil_format", "fmt", "mode"), PILLOW_CASES)
def test_pillow_formats_and_modes(pil_format: str, fmt: str, mode: str) -> None:
    src = _in_mode(mode)
    assert src.mode == mode
    img = load_image(pil_bytes(src, pil_format))
    assert img.format == fmt
    assert img.spacing is None
    assert (img.frame, img.n_frames) == (0, 1)
    _assert_pattern(img)


def test_8bit_gray_values_are_kept() -> None:
    g = _pattern()
    assert np.array_equal(load_image(pil_bytes(Image.fromarray(g), "PNG")).pixels, g)


@pytest.mark.parametrize("pil_format", ["PNG", "TIFF"])
def test_16bit_is_stretched_to_own_range(pil_format: str) -> None:
    values = np.linspace(1000, 3000, ROWS * COLS).reshape(ROWS, COLS).astype(np.uint16)
    px = load_image(pil_bytes(Image.fromarray(values), pil_format)).pixels
    assert px.min() == 0 and px.max() == 255
    assert px[0, 0] == 0 and px[-1, -1] == 255
    assert abs(int(px[ROWS // 2, 0]) - 128) <= 2


def test_constant_16bit_image_becomes_zeros() -> None:
    flat = np.full((ROWS, COLS), 1234, np.uint16)
    px = load_image(pil_bytes(Image.fromarray(flat), "PNG")).pixels
    assert px.shape == (ROWS, COLS) and not px.any()


def test_rgb_becomes_luminance() -> None:
    rgb = np.zeros((ROWS, COLS, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = 100
    rgb[..., 2] = 50
    px = load_image(pil_bytes(Image.fromarray(rgb), "PNG")).pixels
    assert abs(int(px[0, 0]) - round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)) <= 1


def test_jpeg_exif_orientation_is_applied() -> None:
    shown = Image.fromarray(_pattern())
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # what a camera writes for "rotate 90° CW"
    exif = Image.Exif()
    exif[0x0112] = 6
    img = load_image(pil_bytes(stored, "JPEG", exif=exif, quality=95))
    _assert_pattern(img)


def test_multipage_tiff_frame() -> None:
    pages = [Image.fromarray(np.full((ROWS, COLS), v, np.uint8)) for v in (10, 20, 30)]
    data = pil_bytes(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    img = load_image(data, frame=2)
    assert (img.frame, img.n_frames) == (2, 3)
    assert (img.pixels == 30).all()
    with pytest.raises(ImageLoadError) as err:
        load_image(data, frame=3)
    assert err.value.code == "bad_frame"


def test_format_comes_from_bytes_not_name(tmp_path) -> None:
    path = tmp_path / "scan.jpg"  # really a PNG
    path.write_bytes(pil_bytes(Image.fromarray(_pattern()), "PNG"))
    img = load_image_file(path)
    assert img.format == "png"
    _assert_pattern(img)


# --- DICOM ---------------------------------------------------------------------------------


def _region(box: tuple[int, int, int, int], delta_cm: tuple[float, float], units: int = 3, spatial: int = 1) -> Dataset:
    return us_region(COLS, ROWS, delta_cm, units, box=box, spatial_format=spatial)


def test_dicom_us_region_in_cm() -> None:
    img = load_image(dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=[_region(WHOLE, (0.012, 0.012))]))
    assert img.format == "dicom"
    _assert_pattern(img)
    assert img.spacing == PixelSpacing(pytest.approx(0.12), pytest.approx(0.12), "dicom-us-region")
    assert img.spacing.is_isotropic


def test_dicom_region_containing_centre_wins_over_larger() -> None:
    regions = [
        _region((0, 0, 30, ROWS - 1), (0.05, 0.05)),  # largest, but left of the centre
        _region((35, 20, 50, 40), (0.01, -0.02)),  # contains (40, 32)
        _region(WHOLE, (0.3, 0.3), spatial=3),  # Doppler, not tissue
    ]
    img = load_image(dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=regions))
    assert img.spacing.source == "dicom-us-region"
    assert (img.spacing.x_mm, img.spacing.y_mm) == pytest.approx((0.1, 0.2))


def test_dicom_largest_region_when_none_contains_centre() -> None:
    regions = [_region((0, 0, 10, 10), (0.05, 0.05)), _region((0, 0, 30, 60), (0.02, 0.02))]
    img = load_image(dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=regions))
    assert (img.spacing.x_mm, img.spacing.y_mm) == pytest.approx((0.2, 0.2))


def test_dicom_region_not_in_cm_falls_back_to_pixel_spacing() -> None:
    region = [_region(WHOLE, (0.012, 0.012), units=4)]
    img = load_image(dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=region, PixelSpacing=[0.2, 0.15]))
    assert img.spacing == PixelSpacing(pytest.approx(0.15), pytest.approx(0.2), "dicom-pixel-spacing")
    assert load_image(dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=region)).spacing is None


def test_dicom_pixel_spacing_is_row_then_column() -> None:
    img = load_image(dicom_bytes(_pattern(), PixelSpacing=[0.2, 0.15]))
    assert img.spacing == PixelSpacing(pytest.approx(0.15), pytest.approx(0.2), "dicom-pixel-spacing")
    assert not img.spacing.is_isotropic


def test_dicom_without_calibration() -> None:
    img = load_image(dicom_bytes(_pattern()))
    assert img.spacing is None
    assert np.array_equal(img.pixels, _pattern())  # 8-bit MONOCHROME2 is not rescaled


@pytest.mark.parametrize(
    "attrs",
    [
        {"PixelSpacing": [0.0, 0.1]},
        {"PixelSpacing": [-0.1, 0.1]},
        {"PixelSpacing": [10.0, 10.0]},
        {"SequenceOfUltrasoundRegions": [_region(WHOLE, (0.0, 0.012))]},
        {"SequenceOfUltrasoundRegions": [_region(WHOLE, (float("nan"), 0.012))]},
        {"SequenceOfUltrasoundRegions": [_region(WHOLE, (1.0, 1.0))]},  # 10 mm/pixel
    ],
)
def test_dicom_implausible_spacing_is_ignored(attrs: dict) -> None:
    assert load_image(dicom_bytes(_pattern(), **attrs)).spacing is None


def test_dicom_bad_region_falls_back_to_pixel_spacing() -> None:
    region = [_region(WHOLE, (0.0, 0.0))]
    img = load_image(dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=region, PixelSpacing=[0.1, 0.1]))
    assert img.spacing.source == "dicom-pixel-spacing"


def test_dicom_jpeg_baseline_colour_to_gray() -> None:
    rgb = np.zeros((ROWS, COLS, 3), np.uint8)
    rgb[..., 0] = np.linspace(0, 255, COLS)[None, :]
    rgb[..., 1] = np.linspace(0, 255, ROWS)[:, None]
    rgb[..., 2] = 60
    rgb[:16, :16] = 255
    img = load_image(dicom_jpeg_baseline([rgb]))
    expected = rgb.astype(float) @ np.array([0.299, 0.587, 0.114])
    diff = np.abs(img.pixels.astype(float) - expected)
    assert img.pixels.shape == (ROWS, COLS) and img.pixels.dtype == np.uint8
    assert diff.mean() < 3 and diff.max() < 25


def test_dicom_jpeg_multiframe_decodes_requested_frame() -> None:
    frames = [np.full((ROWS, COLS, 3), v, np.uint8) for v in (30, 120, 210)]
    img = load_image(dicom_jpeg_baseline(frames), frame=1)
    assert (img.frame, img.n_frames) == (1, 3)
    assert np.abs(img.pixels.astype(int) - 120).max() <= 3


def test_dicom_multiframe_cine() -> None:
    cine = np.stack([np.full((ROWS, COLS), 10 * (k + 1), np.uint8) for k in range(5)])
    cine[2, :16, :16] = 250
    data = dicom_bytes(cine)
    img = load_image(data, frame=2)
    assert (img.frame, img.n_frames) == (2, 5)
    assert np.array_equal(img.pixels, cine[2])
    with pytest.raises(ImageLoadError) as err:
        load_image(data, frame=5)
    assert err.value.code == "bad_frame"
    assert "5 frames" in err.value.message and "between 0 and 4" in err.value.message


def test_dicom_monochrome1_is_inverted() -> None:
    g = _pattern()
    img = load_image(dicom_bytes(255 - g, photometric="MONOCHROME1"))
    assert np.array_equal(img.pixels, g)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16])
def test_dicom_16bit_is_stretched(dtype) -> None:
    offset = -3000 if np.issubdtype(dtype, np.signedinteger) else 1000
    values = (_pattern().astype(np.int32) * 40 + offset).astype(dtype)
    px = load_image(dicom_bytes(values)).pixels
    assert px.min() == 0 and px.max() == 255
    _assert_pattern(load_image(dicom_bytes(values)))
    inverted = load_image(dicom_bytes(values, photometric="MONOCHROME1")).pixels
    assert np.array_equal(inverted, 255 - px)


def test_dicom_native_rgb() -> None:
    g = _pattern()
    img = load_image(dicom_bytes(np.stack([g, g, g], axis=-1), photometric="RGB"))
    assert np.abs(img.pixels.astype(int) - g).max() <= 1


def test_dicom_without_preamble() -> None:
    ds = pydicom.dcmread(io.BytesIO(dicom_bytes(_pattern(), PixelSpacing=[0.1, 0.1])))
    del ds.file_meta
    ds.preamble = None
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True)
    img = load_image(buf.getvalue())
    assert img.format == "dicom"
    assert np.array_equal(img.pixels, _pattern())
    assert img.spacing.source == "dicom-pixel-spacing"


def test_dicom_patient_data_never_exposed(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    good = dicom_bytes(_pattern(), PixelSpacing=[0.1, 0.1])
    texts = [repr(load_image(good)), str(load_image(good))]
    bad_inputs = [
        (good, 7),
        (good[: len(good) // 2], 0),
        (_compressed("1.2.3.4.5"), 0),
        (_compressed(JPEG2000), 0),
    ]
    for data, frame in bad_inputs:
        with pytest.raises(ImageLoadError) as err:
            load_image(data, frame=frame)
        exc = err.value
        texts += [str(exc), repr(exc), exc.message, repr(exc.__cause__), repr(exc.__context__)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        for value in PHI:
            assert value not in text


# --- bad inputs ----------------------------------------------------------------------------


def _compressed(transfer_syntax: str) -> bytes:
    return dicom_compressed(transfer_syntax, COLS, ROWS)


def _load_error(data: bytes, **kwargs) -> ImageLoadError:
    with pytest.raises(ImageLoadError) as err:
        load_image(data, **kwargs)
    return err.value


def test_empty() -> None:
    assert _load_error(b"").code == "empty"


@pytest.mark.parametrize("data", [random.Random(0).randbytes(5000), b"hello, this is text", b"%PDF-1.7\n" + b"x" * 300])
def test_not_an_image_lists_formats(data: bytes) -> None:
    err = _load_error(data)
    assert err.code == "not_an_image"
    assert "PNG, JPEG, BMP, TIFF or DICOM" in err.message


def test_headerless_dicom_without_pixels_is_not_an_image() -> None:
    ds = Dataset()
    ds.Modality = "US"
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True)
    assert _load_error(buf.getvalue()).code == "not_an_image"


@pytest.mark.parametrize("pil_format", ["PNG", "JPEG", "BMP", "TIFF"])
def test_truncated_pillow_image(pil_format: str) -> None:
    data = pil_bytes(Image.fromarray(_pattern()), pil_format)
    err = _load_error(data[: len(data) // 2])
    assert err.code == "truncated"
    assert "Export the image again" in err.message


def test_truncated_dicom() -> None:
    data = dicom_bytes(_pattern())
    assert _load_error(data[: len(data) // 2]).code == "truncated"
    header_only = data[: data.index(b"\xe0\x7f\x10\x00")]  # cut just before the Pixel Data tag
    assert _load_error(header_only).code == "truncated"


def test_dicom_without_pixel_data() -> None:
    assert _load_error(dicom_without_image(StudyDescription="report")).code == "unsupported_dicom"


@pytest.mark.parametrize("ts", ["1.2.3.4.5", JPEG2000])
def test_unsupported_transfer_syntax(ts: str) -> None:
    err = _load_error(_compressed(ts))
    assert err.code == "unsupported_dicom"
    assert "JPEG Baseline" in err.message


def test_png_decompression_bomb_header() -> None:
    assert _load_error(png_header_only(100_000, 100_000)).code == "too_large"


def test_oversized_side_rejected_from_header() -> None:
    assert _load_error(png_header_only(20_000, 100)).code == "bad_dimensions"


def test_max_pixels_and_max_bytes() -> None:
    data = pil_bytes(Image.fromarray(_pattern()), "PNG")
    assert _load_error(data, max_pixels=ROWS * COLS - 1).code == "too_large"
    assert _load_error(data, max_bytes=len(data) - 1).code == "too_large"
    assert load_image(data, max_pixels=ROWS * COLS, max_bytes=len(data)).width == COLS


@pytest.mark.parametrize("size", [(1, 1), (15, 100), (100, 15)])
def test_tiny_image(size: tuple[int, int]) -> None:
    assert _load_error(pil_bytes(Image.new("L", size), "PNG")).code == "bad_dimensions"


def test_tiny_dicom() -> None:
    assert _load_error(dicom_bytes(np.zeros((1, 1), np.uint8))).code == "bad_dimensions"


@pytest.mark.parametrize("frame", [-1, 1])
def test_bad_frame_single_image(frame: int) -> None:
    data = pil_bytes(Image.fromarray(_pattern()), "PNG")
    assert _load_error(data, frame=frame).code == "bad_frame"


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
        seed = pil_bytes(Image.fromarray(_pattern()), "PNG")
    elif name == "dicom":
        regions = [_region(WHOLE, (0.012, 0.012))]
        seed = dicom_bytes(_pattern(), SequenceOfUltrasoundRegions=regions, PixelSpacing=[0.1, 0.1])
    else:
        seed = dicom_jpeg_baseline([np.stack([_pattern()] * 3, axis=-1)])
    rng = random.Random(name)
    for _ in range(200):
        data = _mutate(seed, rng)
        try:
            img = load_image(data)
        except ImageLoadError as exc:
            assert exc.code in ERROR_CODES
            continue
        assert img.pixels.ndim == 2 and img.pixels.dtype == np.uint8 and img.pixels.flags.c_contiguous
