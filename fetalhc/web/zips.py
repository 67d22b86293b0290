"""Zips sent to ``POST /batch``, opened in memory with every size bounded before it is trusted.

A zip is read from the request's bytes only, never written to disk. Two things a hostile zip
could make expensive are bounded here:

* its central directory, before :mod:`zipfile` parses it (:func:`open_zip`): zipfile builds
  one ``ZipInfo`` per 46 bytes of directory, so a 64 MB upload of empty entries would cost
  hundreds of MB;
* each entry's unpacked bytes (:func:`read_entry`): read in chunks up to a cap, whatever the
  headers declare. Declared sizes only refuse early; they never decide how much is read.

Only stored and deflated entries are read: zipfile decompresses bzip2 and LZMA without an
output bound, so a few kB of either can expand to gigabytes in one call.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from fetalhc.imaging.names import is_image_name
from fetalhc.web.api_error import ApiError

# A zip with entries starts with a local header, an empty one with its end record.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_MAX_COMMENT = 0xFFFF
# Room allowed per permitted entry in the central directory: 46 fixed bytes plus a name and extra
# fields (a few hundred bytes in zips of real folders).
DIRECTORY_BYTES_PER_ENTRY = 1024
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 1 << 16


class BatchRefused(ApiError):
    """A limit of the whole batch: the request is refused (413), not one row."""


def is_zip(data: bytes) -> bool:
    return data[:4] in ZIP_MAGIC


def too_many_entries(max_entries: int) -> BatchRefused:
    return BatchRefused(413, "zip_too_many_entries",
                        f"A zip holds more than {max_entries:,} entries (files and folders), the limit for one "
                        "zip. Zip fewer files per archive, or send the images themselves.")


def too_much_unpacked(max_bytes: int) -> BatchRefused:
    return BatchRefused(413, "zip_too_large",
                        f"The zips of this batch unpack to more than {max_bytes / 2**20:g} MB, the limit for one "
                        "batch. Send fewer images per batch.")


def damaged_zip() -> ApiError:
    return ApiError(415, "bad_zip", "This zip is damaged or not a zip file that can be read. Zip the images "
                                    "again (a plain zip, without encryption) and retry.")


def _end_record(data: bytes) -> tuple[int, tuple] | None:
    """Where zipfile finds the end record, and its fields: the same search as ``zipfile._EndRecData``
    (the last 22 bytes without a comment, else the last signature in the last 64 kB + 22)."""
    tail_at = len(data) - _END.size
    if tail_at >= 0 and data[tail_at:tail_at + 4] == _END_SIG and data[-2:] == b"\0\0":
        at = tail_at
    else:
        at = data.rfind(_END_SIG, max(tail_at - _MAX_COMMENT - 1, 0))
        if at < 0 or len(data) - at < _END.size:
            return None
    return at, _END.unpack_from(data, at)


def open_zip(data: bytes, max_entries: int) -> zipfile.ZipFile:
    """The zip in ``data``, its directory bounded before zipfile reads it. Raises :class:`BatchRefused`
    above ``max_entries``, :class:`ApiError` ``bad_zip`` for a zip that cannot be read."""
    found = _end_record(data)
    if found is None:
        raise damaged_zip()
    at, (_, _, _, _, entries, directory_size, _, _) = found
    # A ZIP64 directory's sizes come from another record; no zip of images within the limits needs one.
    if data[at - _ZIP64_LOCATOR_SIZE:at - _ZIP64_LOCATOR_SIZE + 4] == _ZIP64_LOCATOR_SIG:
        raise damaged_zip()
    if entries > max_entries or directory_size > max_entries * DIRECTORY_BYTES_PER_ENTRY:
        raise too_many_entries(max_entries)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, struct.error):
        raise damaged_zip() from None
    if len(archive.infolist()) > max_entries:  # the record's count may understate the directory
        raise too_many_entries(max_entries)
    return archive


def image_entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The image files of the zip in name order: no folders, no ``__MACOSX`` copies, no hidden files,
    and only names that an image may have (the format is then read from the bytes)."""
    return sorted((info for info in archive.infolist()
                   if not info.is_dir() and not info.filename.startswith("__MACOSX/")
                   and is_image_name(info.filename)), key=lambda info: info.filename)


@dataclass
class UnpackBudget:
    """What the zips of one batch may still unpack to, in bytes."""

    left: int
    limit: int


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int, max_ratio: float,
               budget: UnpackBudget, too_large: ApiError) -> bytes:
    """One entry's bytes, read at most to the first cap it reaches: ``max_bytes`` (``too_large``, as
    one upload above the limit), ``max_ratio`` times its compressed size (a row refused as a likely
    bomb) or the batch's ``budget`` (:class:`BatchRefused`)."""
    if info.flag_bits & 0x1:
        raise ApiError(415, "zip_entry_refused", "This image in the zip is encrypted. Zip the images without "
                                                 "a password and retry.")
    if info.compress_type not in READABLE_METHODS:
        raise ApiError(415, "zip_entry_refused", "This image in the zip is compressed with a method other than "
                                                 "deflate. Zip the images with a standard zip tool and retry.")
    by_ratio = int(max_ratio * max(info.compress_size, 1))
    cap = min(max_bytes, by_ratio, budget.left)
    # What the header declares refuses early; the reads below stop at the cap whatever it declares.
    if info.file_size > cap:
        raise _over(cap, max_bytes, by_ratio, budget, max_ratio, too_large)
    out = bytearray()
    try:
        with archive.open(info) as entry:
            while len(out) <= cap:
                chunk = entry.read(min(_CHUNK, cap + 1 - len(out)))
                if not chunk:
                    break
                out += chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, NotImplementedError,
            struct.error):
        # The exception's text quotes entry names, so it never reaches the answer.
        raise ApiError(415, "bad_zip", "This image in the zip is damaged and could not be unpacked. Zip the "
                                       "images again and retry.") from None
    if len(out) > cap:
        raise _over(cap, max_bytes, by_ratio, budget, max_ratio, too_large)
    budget.left -= len(out)
    return bytes(out)


def _over(cap: int, max_bytes: int, by_ratio: int, budget: UnpackBudget, max_ratio: float,
          too_large: ApiError) -> ApiError:
    """The error for the cap an entry went over (the batch's budget first: it refuses the batch)."""
    if cap == budget.left:
        return too_much_unpacked(budget.limit)
    if cap == by_ratio:
        return ApiError(413, "zip_entry_refused",
                        f"This image in the zip is compressed more than {max_ratio:g} times, the limit for one "
                        "entry (a zip bomb looks like this). Send the image itself, or zip it again.")
    return too_large
