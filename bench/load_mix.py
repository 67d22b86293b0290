"""The mix bench/load_test.py sends: each kind of upload with the answer it must get, built with the
test suite's builders (testkit), and the order of the requests."""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

# The test suite's upload builders: the load test sends what the tests check.
from testkit import bombs
from testkit.samples import (black_png, dicom_bytes, dicom_compressed, dicom_without_image, head_phantom,
                             many_page_tiff, pil_bytes, png_bomb, png_bytes)


@dataclass(frozen=True)
class Upload:
    """One kind of request and the answer it must get; ``code`` None is a measurement."""

    name: str
    data: bytes | None                      # None: the request has no file
    status: int
    code: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    size: tuple[int, int] | None = None     # (width, height) of a measured image
    mm_per_px: float | None = None          # the calibration a measurement must use
    semi_axes: tuple[int, int] | None = None
    weight: int = 1                         # copies in each round of the mix
    every: int = 1                          # in one round out of ``every`` (the costly bombs)
    limit: str | None = None                # the limit a 415 names: "memory" or "time"
    alternative: tuple[int, str, str | None] | None = None  # another right answer (status, code, limit)


def uploads() -> list[Upload]:
    """Four phantoms of distinct sizes, each twice per round; ten invalid uploads; six bombs, each in
    one round out of six or twelve."""
    def phantom(name: str, width: int, height: int, axes: tuple[int, int], encode: Callable[[np.ndarray], bytes],
                mm_per_px: float | None = None, fields: dict[str, str] | None = None) -> Upload:
        return Upload(name, encode(head_phantom(width, height, axes)), 200, fields=fields or {},
                      size=(width, height), mm_per_px=mm_per_px, semi_axes=axes, weight=2)

    def refused(name: str, data: bytes, every: int = 1, limit: str | None = None, **kw) -> Upload:
        return Upload(name, data, 415, "unsupported_image", every=every, limit=limit, **kw)

    plain = png_bytes(head_phantom(400, 300, (120, 95)))
    return [
        phantom("PNG 400x300", 400, 300, (120, 95), png_bytes),
        phantom("JPEG 800x540", 800, 540, (220, 170), lambda p: pil_bytes(Image.fromarray(p), "JPEG", quality=95)),
        phantom("DICOM 600x450, 0.2 mm", 600, 450, (150, 130), lambda p: dicom_bytes(p, 0.2), mm_per_px=0.2),
        phantom("PNG 320x320, typed 0.1 mm", 320, 320, (100, 80), png_bytes, mm_per_px=0.1,
                fields={"pixel_size_mm": "0.1", "ga_weeks": "20"}),
        refused("text", b"not an image at all\n" * 10),
        refused("truncated PNG", plain[:4000]),
        Upload("pixel size 5 mm", plain, 400, "invalid_field", {"pixel_size_mm": "5"}),
        Upload("frame 3 of a PNG", plain, 400, "invalid_frame", {"frame": "3"}),
        refused("DICOM without image", dicom_without_image()),
        Upload("no file", None, 400, "missing_image"),
        Upload("black PNG", black_png(), 422, "no_head_found"),
        refused("DICOM of a damaged JPEG 2000 codestream", dicom_compressed("1.2.840.10008.1.2.4.90")),
        refused("PNG bomb 10000x5000 (48 kB)", png_bomb(10_000, 5_000)),
        refused("TIFF of 5,000 pages", many_page_tiff(5_000, side=64)),
        # The bombs of tests/web/test_bounded_decoding.py: each hits a limit of the decoding sandbox,
        # which is then replaced (0.7 s of CPU), or decodes within them.
        refused("bomb: Deflated DICOM inflating to 600 MB", bombs.deflated_dicom(600), 6, "memory"),
        refused("bomb: TIFF of one 2 GB tile (2 MB)", bombs.huge_tile_tiff(), 6, "memory"),
        refused("bomb: DICOM holding a 12000x12000 JPEG", bombs.jpeg_in_small_dicom(), 6),
        refused("bomb: progressive JPEG of 20,000 scans", bombs.many_scan_jpeg(20_000), 12, "time"),
        # About 1.2 s of decoding alone; under load it may reach the 3 s limit: either answer is its own.
        Upload("bomb: RLE BMP of 4000x3000 (13 kB)", bombs.rle_bmp(), 422, "no_head_found", every=12,
               alternative=(415, "unsupported_image", "time")),
        Upload("bomb: float32 TIFF of 3400x3400", bombs.float_tiff(), 422, "no_head_found", every=6),
    ]


def plan(kinds: list[Upload], count: int, seed: int, warmup: bool = False) -> list[Upload]:
    """``count`` requests: rounds of the weighted mix, each round in its own shuffled order; an upload
    of ``every`` n is in one round out of n, the rounds of different ones staggered, except in a
    ``warmup``, whose every round holds every kind (each code path is warm before memory is read)."""
    rng, out = random.Random(seed), []
    for round_no in itertools.count():
        if len(out) >= count:
            return out[:count]
        round_ = [u for i, u in enumerate(kinds) if warmup or (round_no + i) % u.every == 0 for _ in range(u.weight)]
        rng.shuffle(round_)
        out.extend(round_)
    raise AssertionError("unreachable")
