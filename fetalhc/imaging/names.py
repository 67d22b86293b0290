"""Which file names are taken as images: the files of a folder (``fetalhc.inference.batch``) and the
entries of a zip sent to ``POST /batch``. The format itself is always read from the bytes."""
from __future__ import annotations

from pathlib import PurePosixPath

# "" because DICOM files are often exported without a suffix (IM0001).
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom", ""}


def is_image_name(name: str) -> bool:
    """An image by its name: a known suffix or none; not an HC18 annotation, not a hidden file."""
    path = PurePosixPath(name)
    return (path.suffix.lower() in IMAGE_SUFFIXES and not path.stem.endswith("_Annotation")
            and not path.name.startswith("."))
