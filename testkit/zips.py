"""Zips for the POST /batch tests: plain ones, and ones whose headers lie or ask for what the
server refuses (encryption, bzip2, compression ratios of a zip bomb)."""
from __future__ import annotations

import io
import struct
import zipfile

_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL_SIG = b"PK\x03\x04"
_END_SIG = b"PK\x05\x06"


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``entries`` (name: bytes) in the order given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _patch_all(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    at = out.find(signature)
    while at >= 0:
        struct.pack_into(fmt, out, at + offset, value)
        at = out.find(signature, at + 4)
    return bytes(out)


def with_declared_count(data: bytes, count: int) -> bytes:
    """The zip with its end record claiming ``count`` entries, whatever its directory holds."""
    out = _patch_all(data, _END_SIG, 8, "<H", count)
    return _patch_all(out, _END_SIG, 10, "<H", count)


def encrypted(data: bytes) -> bytes:
    """The zip with every entry flagged as encrypted (bit 0 of the flags), in both headers."""
    out = _patch_all(data, _LOCAL_SIG, 6, "<H", 1)
    return _patch_all(out, _CENTRAL_SIG, 8, "<H", 1)


def understated_sizes(data: bytes, size: int) -> bytes:
    """The zip whose headers claim each entry unpacks to ``size`` bytes (fewer than it does)."""
    out = _patch_all(data, _LOCAL_SIG, 22, "<I", size)
    return _patch_all(out, _CENTRAL_SIG, 24, "<I", size)
