"""PNG, JPEG, BMP and TIFF through load_image: every Pillow mode to 8-bit gray, EXIF, TIFF pages."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fetalhc.imaging import ImageLoadError, load_image, load_image_file
from testkit.imaging import COLS, ROWS, assert_pattern, pattern
from testkit.samples import pil_bytes


def _in_mode(mode: str) -> Image.Image:
    g = pattern()
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
    assert_pattern(img)


def test_8bit_gray_values_are_kept() -> None:
    g = pattern()
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
    shown = Image.fromarray(pattern())
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # what a camera writes for "rotate 90° CW"
    exif = Image.Exif()
    exif[0x0112] = 6
    img = load_image(pil_bytes(stored, "JPEG", exif=exif, quality=95))
    assert_pattern(img)


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
    path.write_bytes(pil_bytes(Image.fromarray(pattern()), "PNG"))
    img = load_image_file(path)
    assert img.format == "png"
    assert_pattern(img)
