"""Memory and CPU bombs: small uploads within every documented limit that expand to gigabytes or
take seconds to decode without the sandbox (fetalhc/imaging/sandbox.py). Each is built here,
in well under a second, from a few bytes of structure and compressed zeros; bench/bomb_cost.py
measures what each costs when decoded without it."""
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
    """``prefix`` then ``n`` zero bytes, deflated (raw deflate when ``raw``, else zlib), in
    milliseconds whatever ``n``: after a full flush the compressor forgets its history, so every
    4 MB block of zeros compresses to the same bytes, which are repeated."""
    block = 1 << 22
    c = zlib.compressobj(9, zlib.DEFLATED, -15 if raw else 15)
    out = [c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)]
    full, rest = divmod(n, block)
    if full:
        out.append((c.compress(b"\0" * block) + c.flush(zlib.Z_FULL_FLUSH)) * full)
    out.append(c.compress(b"\0" * rest) + c.flush())
    stream = b"".join(out)
    if raw:
        return stream
    # The compressor's checksum saw one block; the stream's is of all of them (Adler-32: zeros
    # leave its first sum as it is and add it n times to the second).
    first, second = zlib.adler32(prefix) & 0xFFFF, zlib.adler32(prefix) >> 16
    return stream[:-4] + struct.pack(">HH", (second + n * first) % 65521, first)


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


def _tiff(width: int, height: int, tags: list[tuple[int, int, int | tuple[int, ...]]], data: bytes) -> bytes:
    """A little-endian TIFF with one IFD of ``tags`` (tag, type 3 SHORT or 4 LONG, value or values)
    and ``data`` at offset 8; values longer than 4 bytes follow the IFD."""
    entries = sorted(tags + [(256, 4, width), (257, 4, height)])
    ifd_offset = 8 + len(data) + (len(data) & 1)
    after_ifd = ifd_offset + 2 + 12 * len(entries) + 4
    ifd, extra = [struct.pack("<H", len(entries))], b""
    for tag, kind, value in entries:
        values = value if isinstance(value, tuple) else (value,)
        packed = struct.pack(f"<{len(values)}{'H' if kind == 3 else 'I'}", *values)
        if len(packed) > 4:
            packed, extra = struct.pack("<I", after_ifd + len(extra)), extra + packed
        ifd.append(struct.pack("<HHI", tag, kind, len(values)) + packed.ljust(4, b"\0"))
    return b"II*\0" + struct.pack("<I", ifd_offset) + data + b"\0" * (len(data) & 1) + b"".join(ifd) + \
        b"\0\0\0\0" + extra


def huge_tile_tiff(side: int = 80, tile_w: int = 16384, tile_h: int = 16368) -> bytes:
    """A ``side`` x ``side`` RGBA TIFF of 16 bits per sample stored in one deflated tile of
    ``tile_w`` x ``tile_h``: about 2 MB that Pillow (libtiff) inflates into one 2.0 GB tile buffer
    (8 bytes a pixel, just under 2**31) to keep its 80 x 80 corner. The side is the smallest a
    header may declare (an ultrasound frame is at least 64 px; a smaller one is refused unread)."""
    data = _zeros_deflated(tile_w * tile_h * 8)
    return _tiff(side, side, [(258, 3, (16, 16, 16, 16)), (259, 3, 8), (262, 3, 2), (277, 3, 4), (284, 3, 1),
                              (322, 4, tile_w), (323, 4, tile_h), (324, 4, 8), (325, 4, len(data)),
                              (338, 3, 2)], data)


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
    """An 8-bit RLE BMP of ``width`` x ``height``: each row is one pixel and an end-of-line code
    (4 bytes), whose padding Pillow's pure-Python RLE decoder writes one byte at a time: about
    0.1 us a pixel for 13 kB at 4000 x 3000 (17 kB at 10000 x 4000 took 4 s)."""
    rows = b"\x01\x01\x00\x00" * height + b"\x00\x01"  # a run of 1 pixel, end of line; end of bitmap
    palette = b"".join(struct.pack("<BBBB", i, i, i, 0) for i in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(rows), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + palette + rows


def rgb_png(width: int, height: int) -> bytes:
    """A valid RGB PNG of noise-free gradient, for the memory of a large valid image."""
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.broadcast_to(x[None, :, None], (height, width, 3)).copy()
    return pil_bytes(Image.fromarray(rgb), "PNG", compress_level=1)

