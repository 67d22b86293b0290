"""Limits and errors shared by the decoders: image size, frame number, "not an image"."""
from __future__ import annotations

from fetalhc.imaging.types import ImageLoadError

MIN_SIDE = 16
MAX_SIDE = 10_000

SUPPORTED = "PNG, JPEG, BMP, TIFF or DICOM"
EXPORT_HINT = "Export the image again and retry."


def not_an_image() -> ImageLoadError:
    return ImageLoadError(
        "not_an_image",
        f"This file is not a supported image. Upload a {SUPPORTED} file "
        "(for example the ultrasound frame exported from the scanner).",
    )


def check_dimensions(width: int, height: int, max_pixels: int) -> None:
    """Reject sizes from the header, before any pixel buffer is allocated."""
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImageLoadError(
            "bad_dimensions",
            f"The image is {width}×{height} pixels; it must be at least {MIN_SIDE} pixels on each side. "
            "Upload the full ultrasound frame, not a thumbnail or icon.",
        )
    # Pixel count before the side limit: a decompression bomb is reported as one, whatever its shape.
    if width * height > max_pixels:
        raise too_large(width, height, max_pixels)
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageLoadError(
            "bad_dimensions",
            f"The image is {width}×{height} pixels; each side must be at most {MAX_SIDE} pixels. "
            "Export the ultrasound frame at its original size and retry.",
        )


def too_large(width: int | None, height: int | None, max_pixels: int) -> ImageLoadError:
    size = f"is {width}×{height} pixels" if width and height else "has too many pixels"
    return ImageLoadError(
        "too_large",
        f"The image {size}, above the limit of {max_pixels:,} pixels. "
        "Export a single ultrasound frame at its original size and retry.",
    )


def check_frame(frame: int, n_frames: int) -> None:
    if frame >= n_frames:
        raise ImageLoadError(
            "bad_frame",
            f"Frame {frame} does not exist: this image has {n_frames} frame{'s' if n_frames != 1 else ''}; "
            f"choose a frame between 0 and {n_frames - 1}.",
        )
