"""PNG, JPEG, BMP and TIFF, decoded with Pillow."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from fetalhc.imaging.checks import EXPORT_HINT, check_dimensions, check_frame, too_large
from fetalhc.imaging.gray import to_uint8
from fetalhc.imaging.types import ImageLoadError, LoadedImage

# Pillow counts a TIFF's pages by reading all of them, in a time that grows with the square of
# their number (20,000 pages: 6 s; a 32 MB file holds 300,000): stop reading after this many.
MAX_TIFF_PAGES = 1000

# (magic prefix, our format name, Pillow plugin name)
PILLOW_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png", "PNG"),
    (b"\xff\xd8\xff", "jpeg", "JPEG"),
    (b"II*\x00", "tiff", "TIFF"),
    (b"MM\x00*", "tiff", "TIFF"),
    (b"II+\x00", "tiff", "TIFF"),  # BigTIFF
    (b"MM\x00+", "tiff", "TIFF"),
    (b"BM", "bmp", "BMP"),
)
_HIGH_BIT_DEPTH_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N", "F"})


def load_pillow(data: bytes, frame: int, max_pixels: int, fmt: str, pil_format: str) -> LoadedImage:
    label = fmt.upper()
    with warnings.catch_warnings():
        # Pillow only warns for moderately oversized images; treat that as the bomb it may be.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=[pil_format])
            check_dimensions(*im.size, max_pixels)
            # Only TIFF pages are frames; an animated PNG is read as its default image.
            n_frames = _count_tiff_pages(im) if fmt == "tiff" else 1
            check_frame(frame, n_frames)
            im.seek(frame)  # also back to the first page after counting
            if frame:
                check_dimensions(*im.size, max_pixels)  # TIFF pages may differ in size
            im.load()
            im = ImageOps.exif_transpose(im)
            pixels = _pillow_to_gray(im)
        except (ImageLoadError, MemoryError):
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_large(None, None, max_pixels) from None
        except Image.UnidentifiedImageError as exc:
            raise ImageLoadError(
                "not_an_image",
                f"The file starts like a {label} image but its header could not be read; "
                f"it is damaged or not really {label}. {EXPORT_HINT}",
            ) from exc
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error, ...
            if str(exc) == "decoder error -9" or str(exc).startswith("out of memory error"):
                # A C decoder could not allocate its buffer (IMAGING_CODEC_MEMORY), e.g. libtiff's for
                # a tile far larger than its image: in the sandbox, its memory limit.
                raise MemoryError from None
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
            f"The {label} file ends before the image data is complete (truncated upload?). {EXPORT_HINT}",
        )
    return ImageLoadError(
        "not_an_image",
        f"The {label} image data is damaged and could not be decoded. {EXPORT_HINT}",
    )


def _pillow_to_gray(im: Image.Image) -> np.ndarray:
    if im.mode in _HIGH_BIT_DEPTH_MODES:
        gray = to_uint8(np.asarray(im))
    else:
        # "L" is returned as is; Pillow's conversion drops alpha and resolves palettes.
        gray = np.asarray(im if im.mode == "L" else im.convert("L"))
    return np.array(gray, dtype=np.uint8, order="C")
