"""Decoding in a separate process with hard limits: memory (``RLIMIT_AS``) and a deadline.

Checks of the header bound what we thought of (pixel count, TIFF pages); the sandbox bounds
what nobody thought of too: a Deflated DICOM that inflates to gigabytes, a progressive JPEG of
50,000 scans, a TIFF tile larger than its image, a DICOM of millions of empty items. Whatever
the format, one upload costs the server at most ``memory_mb`` above the decoder's resting
memory and ``timeout_s`` seconds; a decoder that hits a limit answers
:class:`ImageLoadError` ``limit_exceeded`` saying which limit.

:class:`SandboxDecoder` keeps one decoder process (started on first use, restarted after a
limit was hit or when its memory grew). The upload goes to it through a pipe and the decoded
8-bit frame comes back the same way: nothing touches the disk. The decoder's stderr is
discarded, so decoder libraries (pydicom, the JPEG 2000 / JPEG-LS plugins) write nothing to the
server's log. The reply is plain JSON plus raw pixels, never pickle: a decoder exploited by a
hostile file cannot make the server run code.
"""
from __future__ import annotations

import json
import os
import selectors
import struct
import subprocess
import sys
import threading
import time

import numpy as np

from fetalhc.imaging.decode import DEFAULT_MAX_PIXELS
from fetalhc.imaging.types import ImageLoadError, LoadedImage, PixelSpacing

# Restart the decoder once its resident memory has grown this much above its resting memory
# after a decode, so that no upload leaves memory behind.
_REGROW_MB = 64
_HEADER = struct.Struct("<IQ")  # JSON length, payload length


def memory_limit(memory_mb: int) -> ImageLoadError:
    return ImageLoadError(
        "limit_exceeded",
        f"Decoding this image needs more than the {memory_mb} MB memory limit for one upload (a "
        "compressed stream or file structure that expands far beyond its size). Export the ultrasound "
        "frame again as PNG, JPEG or uncompressed DICOM and retry.")


def time_limit(timeout_s: float) -> ImageLoadError:
    return ImageLoadError(
        "limit_exceeded",
        f"Decoding this image takes longer than the {timeout_s:g} s time limit for one upload (for "
        "example a JPEG of thousands of progressive scans). Export the ultrasound frame again as PNG, "
        "JPEG or uncompressed DICOM and retry.")


class SandboxDecoder:
    """``decode(data, frame, max_pixels)``: :func:`fetalhc.imaging.load_image` in a limited process."""

    def __init__(self, memory_mb: int, timeout_s: float):
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()  # one decode at a time per decoder process

    def decode(self, data: bytes, frame: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
        with self._lock:
            deadline = time.monotonic() + self.timeout_s
            process = self._ensure_started()
            header = json.dumps({"frame": frame, "max_pixels": max_pixels}).encode()
            try:
                _write(process, _HEADER.pack(len(header), len(data)) + header, data)
                meta_len, pixels_len = _HEADER.unpack(_read(process, _HEADER.size, deadline))
                meta = json.loads(_read(process, meta_len, deadline))
                pixels = _read(process, pixels_len, deadline)
            except TimeoutError:
                self._replace()
                raise time_limit(self.timeout_s) from None
            except (OSError, EOFError, ValueError):
                # The decoder died: the kernel refused it memory inside a C library, or it crashed.
                self._replace()
                raise memory_limit(self.memory_mb) from None
            if meta.pop("restart", False):
                self._replace()
        return _loaded(meta, pixels, max_pixels)

    def start(self) -> None:
        """Start the decoder now (a worker does at start-up) rather than on the first upload."""
        with self._lock:
            self._ensure_started()

    def _replace(self) -> None:
        """Stop the decoder and start its successor in the background, so that the next upload does
        not wait for it and the server's resting memory stays what it was."""
        self._stop()
        threading.Thread(target=self._start_quietly, daemon=True).start()

    def _start_quietly(self) -> None:
        try:
            self.start()
        except Exception:  # the next upload tries again and reports it
            pass

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _ensure_started(self) -> subprocess.Popen:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "fetalhc.imaging.sandbox", str(self.memory_mb), str(_REGROW_MB)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        # Ready once it has imported its decoders and set its limit (well under the deadline).
        if _read(self._process, 1, time.monotonic() + 30) != b"R":
            self._stop()
            raise memory_limit(self.memory_mb)
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe:
                    pipe.close()


def _write(process: subprocess.Popen, *chunks: bytes) -> None:
    assert process.stdin is not None
    for chunk in chunks:
        process.stdin.write(chunk)
    process.stdin.flush()


def _read(process: subprocess.Popen, n: int, deadline: float) -> bytes:
    """Exactly ``n`` bytes from the decoder, or TimeoutError at ``deadline``, EOFError if it died."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    chunks, left = [], n
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                raise TimeoutError
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
    return b"".join(chunks)


def _loaded(meta: dict, pixels: bytes, max_pixels: int) -> LoadedImage:
    if not meta.get("ok"):
        raise ImageLoadError(str(meta["code"]), str(meta["message"]))
    height, width = int(meta["height"]), int(meta["width"])
    if height * width != len(pixels) or height * width > max_pixels:
        raise ValueError("the decoder's reply does not match its header")
    spacing = meta.get("spacing")
    return LoadedImage(
        pixels=np.frombuffer(pixels, np.uint8).reshape(height, width).copy(),
        spacing=None if spacing is None else PixelSpacing(float(spacing[0]), float(spacing[1]), str(spacing[2])),
        format=str(meta["format"]), frame=int(meta["frame"]), n_frames=int(meta["n_frames"]),
        calibration_note=meta.get("calibration_note"))


# ---- the decoder process -------------------------------------------------------------------------

def _vm_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _preload_decoders() -> None:
    """Import every decoder now, so that imports do not count against an upload's memory."""
    import logging
    import warnings

    import pydicom.pixels.decoders  # noqa: F401
    from PIL import Image

    from fetalhc.imaging import decode  # noqa: F401

    Image.init()
    for module in ("pylibjpeg", "libjpeg", "openjpeg", "rle", "jpeg_ls", "pydicom.pixels.decoders.gdcm"):
        try:
            __import__(module)
        except Exception:
            pass
    # Third-party decoders may log or warn with values from the file: nothing of it is wanted here
    # (stderr goes nowhere anyway).
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")


def _reply(out, meta: dict, pixels: bytes = b"") -> None:
    body = json.dumps(meta).encode()
    out.write(_HEADER.pack(len(body), len(pixels)) + body)
    out.write(pixels)
    out.flush()


def _serve(memory_mb: int, regrow_mb: int) -> None:
    import resource

    from fetalhc.imaging.decode import load_image

    _preload_decoders()
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing a library prints may corrupt the replies
    if hasattr(resource, "RLIMIT_AS"):
        limit = _vm_kb("VmSize") * 1024 + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resting_kb = _vm_kb("VmRSS")
    out.write(b"R")
    out.flush()
    while True:
        head = inp.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        meta_len, data_len = _HEADER.unpack(head)
        request = json.loads(inp.read(meta_len))
        data = inp.read(data_len)
        try:
            image = load_image(data, request["frame"], max_pixels=request["max_pixels"])
            meta = {"ok": True, "format": image.format, "frame": image.frame, "n_frames": image.n_frames,
                    "height": image.height, "width": image.width,
                    "spacing": None if image.spacing is None else
                    [image.spacing.x_mm, image.spacing.y_mm, image.spacing.source],
                    "calibration_note": image.calibration_note}
            pixels = image.pixels.tobytes()
            del image
        except ImageLoadError as exc:
            message = memory_limit(memory_mb).message if exc.code == "limit_exceeded" else exc.message
            meta, pixels = {"ok": False, "code": exc.code, "message": message}, b""
        except Exception:  # load_image raises only ImageLoadError; anything else is a damaged file
            meta, pixels = {"ok": False, "code": "not_an_image",
                            "message": "The image data is damaged and could not be decoded."}, b""
        del data
        meta["restart"] = _vm_kb("VmRSS") - resting_kb > regrow_mb * 1024 or meta.get("code") == "limit_exceeded"
        _reply(out, meta, pixels)
        if meta["restart"]:
            return

if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
