"""DICOM pixels through load_image: JPEG Baseline, cine frames, photometry, bit depth, no preamble,
and no patient field in anything the loader returns, raises or logs."""
from __future__ import annotations

import io
import logging

import numpy as np
import pydicom
import pytest
from pydicom.uid import JPEG2000

from fetalhc.imaging import ImageLoadError, load_image
from testkit.imaging import COLS, ROWS, assert_pattern, compressed, pattern
from testkit.samples import PATIENT_BIRTH_DATE, PATIENT_ID, PATIENT_NAME, dicom_bytes, dicom_jpeg_baseline

PHI = (PATIENT_NAME, PATIENT_ID, PATIENT_BIRTH_DATE)


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
    g = pattern()
    img = load_image(dicom_bytes(255 - g, photometric="MONOCHROME1"))
    assert np.array_equal(img.pixels, g)


@pytest.mark.parametrize("dtype", [np.uint16, np.int16])
def test_dicom_16bit_is_stretched(dtype) -> None:
    offset = -3000 if np.issubdtype(dtype, np.signedinteger) else 1000
    values = (pattern().astype(np.int32) * 40 + offset).astype(dtype)
    px = load_image(dicom_bytes(values)).pixels
    assert px.min() == 0 and px.max() == 255
    assert_pattern(load_image(dicom_bytes(values)))
    inverted = load_image(dicom_bytes(values, photometric="MONOCHROME1")).pixels
    assert np.array_equal(inverted, 255 - px)


def test_dicom_native_rgb() -> None:
    g = pattern()
    img = load_image(dicom_bytes(np.stack([g, g, g], axis=-1), photometric="RGB"))
    assert np.abs(img.pixels.astype(int) - g).max() <= 1


def test_dicom_without_preamble() -> None:
    ds = pydicom.dcmread(io.BytesIO(dicom_bytes(pattern(), PixelSpacing=[0.1, 0.1])))
    del ds.file_meta
    ds.preamble = None
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True)
    img = load_image(buf.getvalue())
    assert img.format == "dicom"
    assert np.array_equal(img.pixels, pattern())
    assert img.spacing.source == "dicom-pixel-spacing"


def test_dicom_patient_data_never_exposed(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    good = dicom_bytes(pattern(), PixelSpacing=[0.1, 0.1])
    texts = [repr(load_image(good)), str(load_image(good))]
    bad_inputs = [
        (good, 7),
        (good[: len(good) // 2], 0),
        (compressed("1.2.3.4.5"), 0),
        (compressed(JPEG2000), 0),
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
