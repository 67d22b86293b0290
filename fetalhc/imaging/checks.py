"""Limits and errors shared by the decoders: image size, frame number, "not an image"."""
from __future__ import annotations

from fetalhc.imaging.types import ImageLoadError

MIN_SIDE = 16
MAX_SIDE = 10_000
# No ultrasound frame is narrower than 1:6 or smaller than 64 pixels on a side: such an image is
# refused (422 not_ultrasound) rather than measured (a 2000x40 resize of an HC18 image gave 105 mm).
MIN_ULTRASOUND_SIDE = 64
MAX_ASPECT = 6.0

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
    check_ultrasound_shape(width, height)


def check_ultrasound_shape(width: int, height: int) -> None:
    """Refuse a shape no ultrasound frame has, before decoding (the header's size is the image's)."""
    if min(width, height) < MIN_ULTRASOUND_SIDE:
        raise not_ultrasound(f"The image is {width}×{height} pixels; an ultrasound frame is at least "
                             f"{MIN_ULTRASOUND_SIDE} pixels on each side.")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise not_ultrasound(f"The image is {width}×{height} pixels, longer than 1:{MAX_ASPECT:g}; no "
                             "ultrasound frame has that shape.")


def not_ultrasound(reason: str) -> ImageLoadError:
    return ImageLoadError("not_ultrasound", f"{reason} Upload the ultrasound frame of the fetal head as "
                                            "exported from the scanner.")


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
