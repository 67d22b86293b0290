"""Decode an upload (PNG, JPEG, BMP, TIFF or DICOM) into one grayscale frame plus its calibration.

Every entry point (web form, CLI, batch) goes through :func:`load_image`, so the rules for
what is accepted, how colour and bit depth are reduced to ``uint8`` and where the pixel
spacing comes from live in one place. Failures are always :class:`ImageLoadError` with a
message a clinician can act on; nothing read from a DICOM file other than image geometry
and calibration ever reaches a message, a return value or a log.
"""
from __future__ import annotations

import io
import math
import os
import warnings

import numpy as np
import pydicom
from PIL import Image, ImageOps
from pydicom import config as dicom_config
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, get_decoder, pixel_array
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from fetalhc.imaging.types import ImageLoadError, LoadedImage, PixelSpacing

MIN_SIDE = 16
MAX_SIDE = 10_000
# Ultrasound pixels are a fraction of a millimetre: a file's calibration outside this range is a
# mis-encoded value (a 1e-6 mm spacing would report a 0 mm head) and is ignored. The web form
# accepts the same range for a typed pixel size.
MIN_SPACING_MM = 0.01
MAX_SPACING_MM = 2.0
# Pillow counts a TIFF's pages by reading all of them, in a time that grows with the square of
# their number (20,000 pages: 6 s; a 32 MB file holds 300,000): stop reading after this many.
MAX_TIFF_PAGES = 1000

_SUPPORTED = "PNG, JPEG, BMP, TIFF or DICOM"
_EXPORT_HINT = "Export the image again and retry."
_DICOM_EXPORT_HINT = "export as uncompressed or JPEG Baseline DICOM, or PNG"

# (magic prefix, our format name, Pillow plugin name)
_PILLOW_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png", "PNG"),
    (b"\xff\xd8\xff", "jpeg", "JPEG"),
    (b"II*\x00", "tiff", "TIFF"),
    (b"MM\x00*", "tiff", "TIFF"),
    (b"II+\x00", "tiff", "TIFF"),  # BigTIFF
    (b"MM\x00+", "tiff", "TIFF"),
    (b"BM", "bmp", "BMP"),
)
_HIGH_BIT_DEPTH_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})

# Elements above this size (in practice only Pixel Data) are read from the buffer only when
# decoding, so a file rejected on its header never has its pixel data copied.
_DICOM_DEFER_SIZE = "64 KB"
_US_REGION_2D_TISSUE = 1
_US_UNITS_CM = 3


def load_image(
    data: bytes,
    frame: int = 0,
    *,
    max_pixels: int = 40_000_000,
    max_bytes: int | None = None,
) -> LoadedImage:
    """Decode ``data`` into a 2D ``uint8`` frame; the format is taken from the bytes, not a name.

    ``frame`` selects a frame of a multi-frame DICOM (cine) or a page of a multi-page TIFF.
    Raises :class:`ImageLoadError` for anything that cannot be used, and nothing else.
    """
    if not data:
        raise ImageLoadError("empty", "The file is empty (0 bytes). Choose the image file again and retry.")
    if max_bytes is not None and len(data) > max_bytes:
        raise ImageLoadError(
            "too_large",
            f"The file is {_megabytes(len(data))} MB, above the {_megabytes(max_bytes)} MB limit. "
            "Export a single frame or a smaller image and retry.",
        )
    if frame < 0:
        raise ImageLoadError("bad_frame", f"Frame {frame} does not exist; frames are numbered from 0.")

    if len(data) >= 132 and data[128:132] == b"DICM":
        return _load_dicom(data, frame, max_pixels, has_preamble=True)
    for magic, fmt, pil_format in _PILLOW_MAGIC:
        if data.startswith(magic):
            return _load_pillow(data, frame, max_pixels, fmt, pil_format)
    # Raw DICOM datasets (no 128-byte preamble) start with a group 0002 or 0008 tag.
    if data[:2] in (b"\x02\x00", b"\x08\x00"):
        return _load_dicom(data, frame, max_pixels, has_preamble=False)
    raise _not_an_image()


def load_image_file(path: str | os.PathLike, frame: int = 0) -> LoadedImage:
    """Read ``path`` and decode it with :func:`load_image`.

    Errors opening or reading the file itself (missing file, no permission) are ``OSError``.
    """
    with open(path, "rb") as f:
        data = f.read()
    return load_image(data, frame)


# --- shared checks -------------------------------------------------------------------------


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f}"


def _not_an_image() -> ImageLoadError:
    return ImageLoadError(
        "not_an_image",
        f"This file is not a supported image. Upload a {_SUPPORTED} file "
        "(for example the ultrasound frame exported from the scanner).",
    )


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    """Reject sizes from the header, before any pixel buffer is allocated."""
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageLoadError(
            "bad_dimensions",
            f"The image is {width}×{height} pixels; it must be at least {MIN_SIDE} pixels on each side. "
            "Upload the full ultrasound frame, not a thumbnail or icon.",
        )
    # Pixel count before the side limit: a decompression bomb is reported as one, whatever its shape.
    if width * height > max_pixels:
        raise _too_large(width, height, max_pixels)
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageLoadError(
            "bad_dimensions",
            f"The image is {width}×{height} pixels; each side must be at most {MAX_SIDE} pixels. "
            "Export the ultrasound frame at its original size and retry.",
        )


def _too_large(width: int | None, height: int | None, max_pixels: int) -> ImageLoadError:
    size = f"is {width}×{height} pixels" if width and height else "has too many pixels"
    return ImageLoadError(
        "too_large",
        f"The image {size}, above the limit of {max_pixels:,} pixels. "
        "Export a single ultrasound frame at its original size and retry.",
    )


def _check_frame(frame: int, n_frames: int) -> None:
    if frame >= n_frames:
        raise ImageLoadError(
            "bad_frame",
            f"Frame {frame} does not exist: this image has {n_frames} frame{'s' if n_frames != 1 else ''}; "
            f"choose a frame between 0 and {n_frames - 1}.",
        )


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """Stretch the image's own min..max to 0..255; a constant image becomes black."""
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2 and values.size:
        # 8- and 16-bit images go through a table of their levels, with the same result and no
        # floating-point copies of the image: a 36-megapixel 16-bit PNG of 0.5 MB would otherwise
        # take 1.3 GB and 3 s.
        lo, hi = int(values.min()), int(values.max())
        return _stretch(np.arange(lo, hi + 1))[values - lo]
    return _stretch(values)


def _stretch(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(arr)
    out = np.zeros(arr.shape, dtype=np.uint8)
    if not finite.any():
        return out
    lo = float(arr[finite].min())
    hi = float(arr[finite].max())
    if hi > lo:
        scaled = (arr[finite] - lo) * (255.0 / (hi - lo))
        out[finite] = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return out


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma, the same weights Pillow uses for RGB -> L."""
    rgb = rgb[..., :3].astype(np.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


# --- Pillow formats ------------------------------------------------------------------------


def _load_pillow(data: bytes, frame: int, max_pixels: int, fmt: str, pil_format: str) -> LoadedImage:
    label = fmt.upper()
    with warnings.catch_warnings():
        # Pillow only warns for moderately oversized images; treat that as the bomb it may be.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=[pil_format])
            _check_dimensions(*im.size, max_pixels)
            # Only TIFF pages are frames; an animated PNG is read as its default image.
            n_frames = _count_tiff_pages(im) if fmt == "tiff" else 1
            _check_frame(frame, n_frames)
            im.seek(frame)  # also back to the first page after counting
            if frame:
                _check_dimensions(*im.size, max_pixels)  # TIFF pages may differ in size
            im.load()
            im = ImageOps.exif_transpose(im)
            pixels = _pillow_to_gray(im)
        except ImageLoadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(None, None, max_pixels) from None
        except Image.UnidentifiedImageError as exc:
            raise ImageLoadError(
                "not_an_image",
                f"The file starts like a {label} image but its header could not be read; "
                f"it is damaged or not really {label}. {_EXPORT_HINT}",
            ) from exc
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error, ...
            raise _pillow_decode_error(exc, label) from exc
    return LoadedImage(pixels=pixels, spacing=None, format=fmt, frame=frame, n_frames=n_frames)


def _count_tiff_pages(im: Image.Image) -> int:
    for page in range(1, MAX_TIFF_PAGES + 1):
        try:
            im.seek(page)
        except EOFError:
            return page
    raise ImageLoadError(
        "too_large",
        f"The TIFF file has more than {MAX_TIFF_PAGES} pages. Export the page to measure as a single image and retry.",
    )


def _pillow_decode_error(exc: Exception, label: str) -> ImageLoadError:
    if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
        return ImageLoadError(
            "truncated",
            f"The {label} file ends before the image data is complete (truncated upload?). {_EXPORT_HINT}",
        )
    return ImageLoadError(
        "not_an_image",
        f"The {label} image data is damaged and could not be decoded. {_EXPORT_HINT}",
    )


def _pillow_to_gray(im: Image.Image) -> np.ndarray:
    if im.mode in _HIGH_BIT_DEPTH_MODES:
        gray = _to_uint8(np.asarray(im))
    else:
        # "L" is returned as is; Pillow's conversion drops alpha and resolves palettes.
        gray = np.asarray(im if im.mode == "L" else im.convert("L"))
    return np.array(gray, dtype=np.uint8, order="C")


# --- DICOM ---------------------------------------------------------------------------------


def _load_dicom(data: bytes, frame: int, max_pixels: int, *, has_preamble: bool) -> LoadedImage:
    # pydicom reports odd values through warnings and its logger, and those messages can quote
    # element values (patient fields included): keep validation off and warnings silent.
    # Exceptions are re-raised ``from None`` for the same reason: their text may quote values.
    with warnings.catch_warnings(), dicom_config.disable_value_validation():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(io.BytesIO(data), defer_size=_DICOM_DEFER_SIZE, force=not has_preamble)
        except Exception:
            if not has_preamble:
                raise _not_an_image() from None
            raise ImageLoadError(
                "not_an_image",
                f"The DICOM file is damaged or incomplete and could not be read. {_EXPORT_HINT}",
            ) from None
        if "PixelData" not in ds:
            raise _dicom_without_pixels(ds, has_preamble)
        try:
            pixels, n_frames = _decode_dicom_frame(ds, frame, max_pixels)
            spacing = _dicom_spacing(ds, pixels.shape)
        except ImageLoadError:
            raise
        except Exception:
            raise ImageLoadError(
                "not_an_image",
                f"The DICOM image data is damaged and could not be decoded. {_EXPORT_HINT}",
            ) from None
    return LoadedImage(pixels=pixels, spacing=spacing, format="dicom", frame=frame, n_frames=n_frames)


def _dicom_without_pixels(ds: Dataset, has_preamble: bool) -> ImageLoadError:
    if not has_preamble:
        # Parsing arbitrary bytes "succeeds" with force=True; without pixels it was never DICOM.
        return _not_an_image()
    if "Rows" in ds:
        # The image header was read but the file stops before the pixel data starts.
        return ImageLoadError(
            "truncated",
            f"The DICOM file ends before the image data (truncated upload?). {_EXPORT_HINT}",
        )
    return ImageLoadError(
        "unsupported_dicom",
        "This DICOM file contains no image (it may be a report or measurement object, or an "
        f"incomplete file). Export the ultrasound image itself: {_DICOM_EXPORT_HINT}.",
    )


def _decode_dicom_frame(ds: Dataset, frame: int, max_pixels: int) -> tuple[np.ndarray, int]:
    """Check the header, then decode only the requested frame to 2D ``uint8``."""
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if rows is None or cols is None:
        raise ImageLoadError(
            "not_an_image",
            f"The DICOM file has image data but no image size; it is damaged. {_EXPORT_HINT}",
        )
    _check_dimensions(int(cols), int(rows), max_pixels)
    n_frames = int(ds.get("NumberOfFrames") or 1)  # absent, empty or 0 all mean one frame
    if n_frames < 1:
        raise ImageLoadError(
            "not_an_image", f"The DICOM header gives an invalid number of frames. {_EXPORT_HINT}"
        )
    _check_frame(frame, n_frames)

    _ensure_transfer_syntax(ds)
    tsyntax = UID(ds.file_meta.TransferSyntaxUID)
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError:
        raise _unsupported_syntax(tsyntax) from None
    if not decoder.is_available:
        raise _unsupported_syntax(tsyntax)
    if tsyntax.is_encapsulated:
        try:
            arr = pixel_array(ds, index=frame)
        except Exception:
            # Damaged and unsupported codestreams fail alike; either way the fix is re-exporting.
            raise ImageLoadError(
                "unsupported_dicom",
                f"The compressed image data (transfer syntax {_syntax_name(tsyntax)}) could not be "
                f"decoded: it is damaged or uses an unsupported variant; {_DICOM_EXPORT_HINT}.",
            ) from None
    else:
        if len(ds.PixelData) < get_expected_length(ds, "bytes"):
            raise ImageLoadError(
                "truncated",
                "The DICOM file ends before the image data is complete (truncated upload?). "
                f"{_EXPORT_HINT}",
            )
        arr = pixel_array(ds, index=frame)
    return _dicom_to_gray(arr, ds), n_frames


def _ensure_transfer_syntax(ds: Dataset) -> None:
    """Files without a meta header carry no Transfer Syntax UID; use the encoding pydicom detected."""
    if "TransferSyntaxUID" in ds.file_meta:
        return
    implicit_vr, little_endian = ds.original_encoding
    if implicit_vr:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    elif little_endian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    else:
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian


def _syntax_name(uid: UID) -> str:
    # A valid UID is digits and dots (or pydicom's name for it); a bad file may hold any bytes here.
    return uid.name if uid.is_valid else "(unknown)"


def _unsupported_syntax(uid: UID) -> ImageLoadError:
    return ImageLoadError(
        "unsupported_dicom",
        f"This DICOM file's transfer syntax {_syntax_name(uid)} is not supported; {_DICOM_EXPORT_HINT}.",
    )


def _dicom_to_gray(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    if arr.ndim == 3:
        luma = _luminance(arr)
        if arr.dtype == np.uint8:
            gray = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
        else:
            gray = _to_uint8(luma)
    elif arr.ndim == 2:
        bits_stored = int(ds.get("BitsStored") or 8)
        gray = arr if arr.dtype == np.uint8 and bits_stored >= 8 else _to_uint8(arr)
        if photometric == "MONOCHROME1":
            gray = 255 - gray
    else:
        raise ImageLoadError(
            "unsupported_dicom",
            f"This DICOM image layout (photometric interpretation {photometric or 'missing'}) is not "
            f"supported; {_DICOM_EXPORT_HINT}.",
        )
    return np.array(gray, dtype=np.uint8, order="C")


def _dicom_spacing(ds: Dataset, shape: tuple[int, ...]) -> PixelSpacing | None:
    """Ultrasound region calibration first, then Pixel Spacing; unusable values are ignored."""
    rows, cols = shape
    try:
        from_region = _us_region_spacing(ds, rows, cols)
    except Exception:  # a malformed optional sequence must not cost the image
        from_region = None
    if from_region is not None:
        return from_region
    try:
        row_mm, col_mm = (float(v) for v in ds.get("PixelSpacing") or ())
    except Exception:
        return None
    return _valid_spacing(col_mm, row_mm, "dicom-pixel-spacing")


def _us_region_spacing(ds: Dataset, rows: int, cols: int) -> PixelSpacing | None:
    regions = [
        r for r in ds.get("SequenceOfUltrasoundRegions") or ()
        if r.get("RegionSpatialFormat") == _US_REGION_2D_TISSUE
    ]
    if not regions:
        return None

    boxes = [
        (
            float(r.RegionLocationMinX0),
            float(r.RegionLocationMinY0),
            float(r.RegionLocationMaxX1),
            float(r.RegionLocationMaxY1),
        )
        for r in regions
    ]
    cx, cy = cols / 2, rows / 2
    central = [i for i, (x0, y0, x1, y1) in enumerate(boxes) if x0 <= cx <= x1 and y0 <= cy <= y1]

    def area(i: int) -> float:
        x0, y0, x1, y1 = boxes[i]
        return (x1 - x0) * (y1 - y0)

    region = regions[max(central or range(len(regions)), key=area)]
    if (
        region.get("PhysicalUnitsXDirection") != _US_UNITS_CM
        or region.get("PhysicalUnitsYDirection") != _US_UNITS_CM
    ):
        return None
    return _valid_spacing(
        10.0 * abs(float(region.PhysicalDeltaX)),
        10.0 * abs(float(region.PhysicalDeltaY)),
        "dicom-us-region",
    )


def _valid_spacing(x_mm: float, y_mm: float, source: str) -> PixelSpacing | None:
    for v in (x_mm, y_mm):
        if not (math.isfinite(v) and MIN_SPACING_MM <= v <= MAX_SPACING_MM):
            return None
    return PixelSpacing(x_mm=x_mm, y_mm=y_mm, source=source)
