"""DICOM in the transfer syntaxes pydicom can decode here, one frame at a time.

Nothing read from the file other than image geometry and calibration reaches a message, a
return value or a log.
"""
from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import pydicom
from pydicom import config as dicom_config
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, get_decoder, pixel_array
from pydicom.pixels.utils import get_expected_length
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from fetalhc.imaging.calibration import dicom_spacing
from fetalhc.imaging.checks import EXPORT_HINT, check_dimensions, check_frame, not_an_image, not_ultrasound
from fetalhc.imaging.gray import luminance, to_uint8
from fetalhc.imaging.types import ImageLoadError, LoadedImage

# pydicom and its decoder plugins log odd values of a file verbatim (a Specific Character Set
# holding a newline forged a request-log line) and decoder failures with tracebacks: nothing of
# theirs reaches the server log. (The web app decodes in a sandbox whose output is discarded;
# this covers the command-line tools and anything else that loads an image in-process.)
for _name in ("pydicom", "pylibjpeg", "libjpeg", "openjpeg", "rle"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)

DICOM_EXPORT_HINT = "export as uncompressed or JPEG Baseline DICOM, or PNG"
# Elements above this size (in practice only Pixel Data) are read from the buffer only when
# decoding, so a file rejected on its header never has its pixel data copied.
_DEFER_SIZE = "64 KB"


def load_dicom(data: bytes, frame: int, max_pixels: int, *, has_preamble: bool) -> LoadedImage:
    # pydicom reports odd values through warnings and its logger, and those messages can quote
    # element values (patient fields included): keep validation off and warnings silent.
    # Exceptions are re-raised ``from None`` for the same reason: their text may quote values.
    with warnings.catch_warnings(), dicom_config.disable_value_validation():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(io.BytesIO(data), defer_size=_DEFER_SIZE, force=not has_preamble)
        except MemoryError:
            raise
        except Exception:
            if not has_preamble:
                raise not_an_image() from None
            raise ImageLoadError(
                "not_an_image",
                f"The DICOM file is damaged or incomplete and could not be read. {EXPORT_HINT}",
            ) from None
        if "PixelData" not in ds:
            raise _dicom_without_pixels(ds, has_preamble)
        _check_modality(ds)
        try:
            pixels, n_frames = _decode_dicom_frame(ds, frame, max_pixels)
            spacing, note = dicom_spacing(ds, pixels.shape)
        except (ImageLoadError, MemoryError):
            raise
        except Exception:
            raise ImageLoadError(
                "not_an_image",
                f"The DICOM image data is damaged and could not be decoded. {EXPORT_HINT}",
            ) from None
    return LoadedImage(pixels=pixels, spacing=spacing, format="dicom", frame=frame, n_frames=n_frames,
                       calibration_note=note)


_ULTRASOUND = "US"
# Secondary captures count as ultrasound only when they carry the ultrasound regions of the scanner.
_SECONDARY_CAPTURE = frozenset({"OT", "SC"})


def _check_modality(ds: Dataset) -> None:
    """Only ultrasound is measured: a CT or MR slice would be measured as a (wrong) head."""
    try:
        modality = str(ds.get("Modality") or "").strip().upper()
        regions = bool(ds.get("SequenceOfUltrasoundRegions"))
    except Exception:  # a damaged optional element: treat as absent
        modality, regions = "", False
    if modality == _ULTRASOUND or (modality in _SECONDARY_CAPTURE and regions):
        return
    # The modality is a short code; show it only when it is one (a file may hold any bytes here).
    shown = modality if modality.isascii() and modality.isalnum() and len(modality) <= 4 else ""
    what = f"modality {shown}" if shown else "no ultrasound modality"
    raise not_ultrasound(f"This DICOM image has {what}, not ultrasound (US); only fetal ultrasound "
                         "is measured.")


def _dicom_without_pixels(ds: Dataset, has_preamble: bool) -> ImageLoadError:
    if not has_preamble:
        # Parsing arbitrary bytes "succeeds" with force=True; without pixels it was never DICOM.
        return not_an_image()
    if "Rows" in ds:
        # The image header was read but the file stops before the pixel data starts.
        return ImageLoadError(
            "truncated",
            f"The DICOM file ends before the image data (truncated upload?). {EXPORT_HINT}",
        )
    return ImageLoadError(
        "unsupported_dicom",
        "This DICOM file contains no image (it may be a report or measurement object, or an "
        f"incomplete file). Export the ultrasound image itself: {DICOM_EXPORT_HINT}.",
    )


def _decode_dicom_frame(ds: Dataset, frame: int, max_pixels: int) -> tuple[np.ndarray, int]:
    """Check the header, then decode only the requested frame to 2D ``uint8``."""
    rows, cols = ds.get("Rows"), ds.get("Columns")
    if rows is None or cols is None:
        raise ImageLoadError(
            "not_an_image",
            f"The DICOM file has image data but no image size; it is damaged. {EXPORT_HINT}",
        )
    check_dimensions(int(cols), int(rows), max_pixels)
    n_frames = int(ds.get("NumberOfFrames") or 1)  # absent, empty or 0 all mean one frame
    if n_frames < 1:
        raise ImageLoadError(
            "not_an_image", f"The DICOM header gives an invalid number of frames. {EXPORT_HINT}"
        )
    check_frame(frame, n_frames)

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
        except MemoryError:
            raise
        except Exception:
            # Damaged and unsupported codestreams fail alike; either way the fix is re-exporting.
            raise ImageLoadError(
                "unsupported_dicom",
                f"The compressed image data (transfer syntax {_syntax_name(tsyntax)}) could not be "
                f"decoded: it is damaged or uses an unsupported variant; {DICOM_EXPORT_HINT}.",
            ) from None
    else:
        if len(ds.PixelData) < get_expected_length(ds, "bytes"):
            raise ImageLoadError(
                "truncated",
                "The DICOM file ends before the image data is complete (truncated upload?). "
                f"{EXPORT_HINT}",
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
        f"This DICOM file's transfer syntax {_syntax_name(uid)} is not supported; {DICOM_EXPORT_HINT}.",
    )


def _dicom_to_gray(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    if arr.ndim == 3:
        luma = luminance(arr)
        if arr.dtype == np.uint8:
            gray = np.clip(np.rint(luma, out=luma), 0, 255, out=luma).astype(np.uint8)
        else:
            gray = to_uint8(luma)
    elif arr.ndim == 2:
        bits_stored = int(ds.get("BitsStored") or 8)
        gray = arr if arr.dtype == np.uint8 and bits_stored >= 8 else to_uint8(arr)
        if photometric == "MONOCHROME1":
            gray = 255 - gray
    else:
        raise ImageLoadError(
            "unsupported_dicom",
            f"This DICOM image layout (photometric interpretation {photometric or 'missing'}) is not "
            f"supported; {DICOM_EXPORT_HINT}.",
        )
    return np.array(gray, dtype=np.uint8, order="C")
