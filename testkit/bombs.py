"""Memory and CPU bombs: small uploads within every documented limit that expand to gigabytes or
take minutes to decode without the sandbox (fetalhc/imaging/sandbox.py). Each is built here,
in well under a second, from a few bytes of structure and compressed zeros."""
from __future__ import annotations

import struct
import zlib

import numpy as np
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEGBaseline8Bit

from testkit.samples import _dataset, _save, pil_bytes

_DEFLATED = DeflatedExplicitVRLittleEndian


def _zeros_deflated(n: int, prefix: bytes = b"", raw: bool = False) -> bytes:
    """``prefix`` then ``n`` zero bytes, deflated (raw deflate when ``raw``, else zlib)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    out, block = [c.compress(prefix)], b"\0" * (1 << 22)
    for _ in range(n // len(block)):
        out.append(c.compress(block))
    out.append(c.compress(b"\0" * (n % len(block))))
    out.append(c.flush())
    return b"".join(out)


def deflated_dicom(inflated_mb: int = 600) -> bytes:
    """A DICOM in the Deflated transfer syntax whose data set inflates to ``inflated_mb`` MB (a
    private OB element of zeros before a small image): about 1 kB per MB."""
    ds = _dataset("1.2.840.10008.5.1.4.1.1.6.1", _DEFLATED)
    small = _save(ds)  # preamble and meta header, then a deflated data set that is replaced
    meta_len = struct.unpack("<I", small[140:144])[0]  # (0002,0000) group length value
    header = small[:144 + meta_len]
    length = inflated_mb * 2**20
    element = struct.pack("<HH2sHI", 0x0009, 0x1010, b"OB", 0, length)  # private tag, OB, long length
    return header + _zeros_deflated(length, element, raw=True)


def many_scan_jpeg(scans: int = 20_000, side: int = 2048) -> bytes:
    """A progressive grayscale JPEG of ``side`` x ``side`` whose last scan is repeated ``scans``
    times: each repeat makes the decoder walk every block again."""
    jpeg = pil_bytes(Image.new("L", (side, side)), "JPEG", progressive=True, quality=50)
    sos = [i for i in range(len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] == 0xDA]
    last = jpeg[sos[-1]:-2]  # the last scan: SOS segment and its entropy-coded data, without EOI
    return jpeg[:-2] + last * scans + b"\xff\xd9"


def many_marker_jpeg(markers: int = 2_000_000) -> bytes:
    """A JPEG with ``markers`` empty APP15 segments before its image: 4 bytes each."""
    jpeg = pil_bytes(Image.new("L", (256, 256)), "JPEG")
    return jpeg[:2] + b"\xff\xef\x00\x02" * markers + jpeg[2:]


def _tiff(width: int, height: int, tags: list[tuple[int, int, int]], data: bytes) -> bytes:
    """A little-endian TIFF with one IFD of ``tags`` (tag, type, value) and ``data`` at offset 8."""
    entries = sorted(tags + [(256, 4, width), (257, 4, height)])
    ifd_offset = 8 + len(data) + (len(data) & 1)
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", t, k, 1, v) for t, k, v in entries)
    return b"II*\0" + struct.pack("<I", ifd_offset) + data + b"\0" * (len(data) & 1) + ifd + b"\0\0\0\0"


def huge_tile_tiff(tile_w: int = 16384, tile_h: int = 16368) -> bytes:
    """A 16 x 16 grayscale TIFF stored in one deflated tile of ``tile_w`` x ``tile_h``."""
    data = _zeros_deflated(tile_w * tile_h)
    return _tiff(16 * 5, 16 * 5, [(258, 3, 8), (259, 3, 8), (262, 3, 1), (277, 3, 1), (322, 4, tile_w),
                                  (323, 4, tile_h), (324, 4, 8), (325, 4, len(data))], data)


def float_tiff(side: int = 3400) -> bytes:
    """A deflated 32-bit float grayscale TIFF of ``side`` x ``side`` in one strip (valid, within the
    pixel limit: it must decode within the memory limit)."""
    data = _zeros_deflated(side * side * 4)
    return _tiff(side, side, [(258, 3, 32), (259, 3, 8), (262, 3, 1), (273, 4, 8), (277, 3, 1),
                              (278, 4, side), (279, 4, len(data)), (339, 3, 3)], data)


def many_item_dicom(items: int = 2_000_000) -> bytes:
    """A DICOM with a sequence of ``items`` empty items (8 bytes each) before a small image."""
    ds = _dataset("1.2.840.10008.5.1.4.1.1.6.1")
    ds.Rows = ds.Columns = 64
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = b"\0" * 64 * 64
    data = _save(ds)
    item = b"\xfe\xff\x00\xe0\x00\x00\x00\x00"  # an item of length 0
    seq = struct.pack("<HH2sHI", 0x0009, 0x1020, b"SQ", 0, 0xFFFFFFFF) + item * items + \
        b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    at = data.index(b"\x10\x00\x10\x00", 132)  # Patient's Name (0010,0010): the sequence goes before it
    return data[:at] + seq + data[at:]


def jpeg_in_small_dicom(side: int = 12000) -> bytes:
    """A DICOM claiming 640 x 480 that holds a ``side`` x ``side`` JPEG (about 1.5 MB at 12000)."""
    ds = _dataset("1.2.840.10008.5.1.4.1.1.6.1", JPEGBaseline8Bit)
    ds.Rows, ds.Columns = 480, 640
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = encapsulate([pil_bytes(Image.new("L", (side, side)), "JPEG", quality=10)])
    ds["PixelData"].VR = "OB"
    return _save(ds)


def rle_bmp(width: int = 4000, height: int = 3000) -> bytes:
    """An 8-bit RLE BMP of ``width`` x ``height`` made of end-of-line codes only (a few kB)."""
    rows = b"\x00\x00" * height + b"\x00\x01"  # end of line per row, then end of bitmap
    palette = b"".join(struct.pack("<BBBB", i, i, i, 0) for i in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(rows), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + palette + rows


def rgb_png(width: int, height: int) -> bytes:
    """A valid RGB PNG of noise-free gradient, for the memory of a large valid image."""
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.broadcast_to(x[None, :, None], (height, width, 3)).copy()
    return pil_bytes(Image.fromarray(rgb), "PNG", compress_level=1)

