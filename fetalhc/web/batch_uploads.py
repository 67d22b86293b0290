"""The images of one ``POST /batch``: the repeated field ``images``, zips expanded in memory.

:func:`batch_plan` lists the images (a plain upload is one, a zip is its image entries in name
order) and checks the limits of the whole batch, without unpacking anything. Each image is
then read by its :class:`BatchImage` when its turn comes, so a batch holds one unpacked entry
at a time. What the plan finds wrong with one file (a damaged zip, an upload above the size
limit) becomes that file's error row; what breaks a batch limit refuses the request.
"""
from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from flask import g, request
from werkzeug.exceptions import HTTPException

from fetalhc.settings import Settings
from fetalhc.web.api_error import ApiError
from fetalhc.web.uploads import upload_too_large
from fetalhc.web.zips import (BatchRefused, UnpackBudget, image_entries, is_zip, open_zip, read_entry,
                              too_much_unpacked)

FIELD = "images"


@dataclass(frozen=True)
class BatchImage:
    upload: int          # which uploaded file, counted from 0 in the order sent
    entry: int | None    # which image of that zip, from 0 in name order; None for a plain image
    read: Callable[[], bytes]  # the bytes, or ApiError for this row (BatchRefused for the batch)


def _refusal(error: ApiError) -> Callable[[], bytes]:
    def read() -> bytes:
        raise error
    return read


def _plain(data: bytes, settings: Settings) -> Callable[[], bytes]:
    if len(data) > settings.max_upload_bytes:  # one image of a batch has the same limit as POST /
        return _refusal(ApiError(413, "file_too_large", upload_too_large(settings.max_upload_bytes)))
    return lambda: data


def _zip_images(upload: int, data: bytes, settings: Settings, budget: UnpackBudget) -> tuple[list[BatchImage], int]:
    """The zip's images, and what they declare they unpack to."""
    try:
        archive = open_zip(data, settings.zip_max_entries)
    except BatchRefused:
        raise
    except ApiError as exc:
        return [BatchImage(upload, None, _refusal(exc))], 0
    entries = image_entries(archive)
    if not entries:
        return [BatchImage(upload, None, _refusal(ApiError(
            415, "bad_zip", "This zip holds no image files (PNG, JPEG, BMP, TIFF or DICOM). Zip the images "
                            "themselves and retry.")))], 0
    too_large = ApiError(413, "file_too_large", upload_too_large(settings.max_upload_bytes))

    def reader(info: zipfile.ZipInfo) -> Callable[[], bytes]:
        return lambda: read_entry(archive, info, settings.max_upload_bytes, settings.zip_max_ratio, budget, too_large)

    return [BatchImage(upload, i, reader(info)) for i, info in enumerate(entries)], sum(i.file_size for i in entries)


def _uploads() -> list[bytes]:
    """The files of the field ``images``; a browser sends an empty part without a name when none was chosen."""
    uploads = []
    for upload in request.files.getlist(FIELD):
        data, name = upload.read(), upload.filename
        upload.close()  # the parsed part's buffer goes now, not with the request: one copy of the batch is enough
        if data or name:
            uploads.append(data)
    if not uploads:
        raise ApiError(400, "missing_image", f"No image was sent. Choose ultrasound images (PNG, JPEG, BMP, TIFF "
                                             f"or DICOM, or a zip of them) and send each in the field '{FIELD}'.")
    return uploads


def _plan(settings: Settings) -> list[BatchImage]:
    budget = UnpackBudget(settings.zip_max_bytes, settings.zip_max_bytes)
    images: list[BatchImage] = []
    declared = 0
    for upload, data in enumerate(_uploads()):
        if is_zip(data):
            found, size = _zip_images(upload, data, settings, budget)
            images += found
            declared += size
        else:
            images.append(BatchImage(upload, None, _plain(data, settings)))
    if len(images) > settings.batch_max_images:
        raise BatchRefused(413, "too_many_images",
                           f"This batch holds {len(images)} images, more than the limit of "
                           f"{settings.batch_max_images} per batch (a zip's images count one by one). "
                           f"Send them in batches of at most {settings.batch_max_images}.")
    # What the zips declare refuses an honest oversized batch before anything is unpacked;
    # read_entry's caps refuse one whose headers understate.
    if declared > settings.zip_max_bytes:
        raise too_much_unpacked(settings.zip_max_bytes)
    return images


def plan_batch(settings: Settings) -> None:
    """List the batch's images into ``g`` before the rate limiter counts them (``upload_count``).

    Runs before the API key and CSRF checks, so nothing is raised here: what refuses the batch
    is kept and raised by :func:`batch_images` in the view, after those checks.
    """
    try:
        g.batch_images = _plan(settings)
        g.upload_count = len(g.batch_images)
    except (ApiError, HTTPException) as exc:
        g.batch_refusal = exc


def batch_images() -> list[BatchImage]:
    refusal = g.get("batch_refusal")
    if refusal is not None:
        raise refusal
    return g.batch_images
