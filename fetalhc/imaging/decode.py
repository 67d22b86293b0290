"""Decode an upload (PNG, JPEG, BMP, TIFF or DICOM) into one grayscale frame plus its calibration.

Every entry point (web form, CLI, batch) goes through :func:`load_image`, so the rules for
what is accepted, how colour and bit depth are reduced to ``uint8`` and where the pixel
spacing comes from live in one place. Failures are always :class:`ImageLoadError` with a
message a clinician can act on; nothing read from a DICOM file other than image geometry
and calibration ever reaches a message, a return value or a log.
"""
from __future__ import annotations

import os

from fetalhc.imaging.checks import not_an_image
from fetalhc.imaging.dicom import load_dicom
from fetalhc.imaging.raster import PILLOW_MAGIC, load_pillow
from fetalhc.imaging.types import ImageLoadError, LoadedImage

# Width x height: 12 megapixels is above any ultrasound export (4K UHD is 8.3) and decodes within
# the sandbox's memory limit in every supported layout (docs/security.md).
DEFAULT_MAX_PIXELS = 12_000_000


def load_image(data: bytes, frame: int = 0, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Decode ``data`` into a 2D ``uint8`` frame; the format is taken from the bytes, not a name.

    ``frame`` selects a frame of a multi-frame DICOM (cine) or a page of a multi-page TIFF.
    Raises :class:`ImageLoadError` for anything that cannot be used, and nothing else. Running
    out of memory is ``limit_exceeded``: in the decoding sandbox (:mod:`fetalhc.imaging.sandbox`)
    that is its memory limit. This function does not bound memory or time itself.
    """
    try:
        return _load(data, frame, max_pixels)
    except MemoryError:
        raise ImageLoadError("limit_exceeded", "Decoding this image needs more memory than is available. "
                                               "Export the ultrasound frame again and retry.") from None


def _load(data: bytes, frame: int, max_pixels: int) -> LoadedImage:
    if not data:
        raise ImageLoadError("empty", "The file is empty (0 bytes). Choose the image file again and retry.")
    if frame < 0:
        raise ImageLoadError("bad_frame", f"Frame {frame} does not exist; frames are numbered from 0.")

    if len(data) >= 132 and data[128:132] == b"DICM":
        return load_dicom(data, frame, max_pixels, has_preamble=True)
    for magic, fmt, pil_format in PILLOW_MAGIC:
        if data.startswith(magic):
            return load_pillow(data, frame, max_pixels, fmt, pil_format)
    # Raw DICOM datasets (no 128-byte preamble) start with a group 0002 or 0008 tag.
    if data[:2] in (b"\x02\x00", b"\x08\x00"):
        return load_dicom(data, frame, max_pixels, has_preamble=False)
    raise not_an_image()


def load_image_file(path: str | os.PathLike, frame: int = 0) -> LoadedImage:
    """Read ``path`` and decode it with :func:`load_image`.

    Errors opening or reading the file itself (missing file, no permission) are ``OSError``.
    """
    with open(path, "rb") as f:
        data = f.read()
    return load_image(data, frame)
