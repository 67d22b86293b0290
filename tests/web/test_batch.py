"""POST /batch: rows in upload order, one bad image one error row, every batch and zip limit with its message."""
from __future__ import annotations

import io
import zipfile

import pytest

from fetalhc.record_csv import csv_columns
from fetalhc.web.openapi import openapi_document
from testkit.bombs import deflated_dicom
from testkit.samples import (JSON, PATIENT_FILE_NAME, black_png, error_of, hc18_reference, png_header_only,
                             upload)
from testkit.zips import encrypted, understated_sizes, with_declared_count, zip_of


def post_batch(client, files: list[bytes], names: list[str] | None = None, **fields):
    names = names or [f"image{i}.png" for i in range(len(files))]
    data = {"images": [upload(f, n) for f, n in zip(files, names)], **fields}
    return client.post("/batch", data=data, headers=JSON)


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["status"] == "success" and body["request_id"] == response.headers["X-Request-ID"]
    assert [r["index"] for r in body["results"]] == list(range(len(body["results"])))
    return body["results"]


def same_as_post(client, data: bytes) -> tuple[str, str, int]:
    """(code, message, status) of POST / for ``data`` alone."""
    status, code, message = error_of(client.post("/", data={"image": upload(data)}, headers=JSON))
    return code, message, status


@pytest.fixture(scope="module")
def head(hc18):
    data, pixel_mm, _ = hc18_reference(hc18)
    return data, pixel_mm


def test_rows_keep_the_upload_order_and_a_bad_file_is_an_error_row(client, head):
    data, pixel_mm = head
    truncated = black_png()[:200]
    response = post_batch(client, [data, truncated, black_png(), data], pixel_size_mm=str(pixel_mm), ga_weeks="20",
                          names=[PATIENT_FILE_NAME] * 4)
    rows = rows_of(response)
    assert [r["status"] for r in rows] == ["success", "error", "error", "success"]
    assert [(r["upload"], r["entry"]) for r in rows] == [(0, None), (1, None), (2, None), (3, None)]
    # Each row is what POST / answers for that image alone: the record, or its error code and message.
    single = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm), "ga_weeks": "20"},
                         headers=JSON).get_json()
    for row in (rows[0], rows[3]):
        assert row["circumference_mm"] == single["circumference_mm"] and row["pixel_size_source"] == "form"
        assert row["centile"]["ga_weeks"] == 20.0
        assert set(row) == set(single) - {"request_id"} | {"index", "upload", "entry"}
    for row, sent in ((rows[1], truncated), (rows[2], black_png())):
        code, message, status = same_as_post(client, sent)
        assert row["error"] == {"code": code, "message": message, "http_status": status}
    assert [rows[1]["error"]["code"], rows[2]["error"]["code"]] == ["unsupported_image", "no_head_found"]
    assert "DOE_JANE" not in response.get_data(as_text=True)  # file names stay out of the answer


def test_the_table_is_the_records_flat_form(client, head):
    data, pixel_mm = head
    body = post_batch(client, [data, b"not an image"], pixel_size_mm=str(pixel_mm)).get_json()
    columns, rows = body["table"]["columns"], body["table"]["rows"]
    assert columns[:5] == ["index", "upload", "entry", "status", "error"]
    assert columns[5:] == [c for c in csv_columns() if c != "status"]
    measured, failed = (dict(zip(columns, r)) for r in rows)
    assert measured["circumference_mm"] == body["results"][0]["circumference_mm"]
    assert measured["ellipse.center_x_px"] == body["results"][0]["ellipse"]["center_x_px"]
    assert measured["provenance.measured_at"] == body["results"][0]["provenance"]["measured_at"]
    assert failed["status"] == "error" and failed["error"] == body["results"][1]["error"]["message"]
    assert failed["circumference_mm"] is None


def test_a_zip_is_expanded_in_name_order_beside_plain_images(client, head):
    data, pixel_mm = head
    archive = zip_of({"b/second.png": data, "a/first.png": black_png(), "notes.txt": b"x", "__MACOSX/._x.png": b"x",
                      "010_HC_Annotation.png": black_png(), "c/": b""})
    rows = rows_of(post_batch(client, [black_png(), archive], pixel_size_mm=str(pixel_mm)))
    assert [(r["upload"], r["entry"], r["status"]) for r in rows] == [
        (0, None, "error"), (1, 0, "error"), (1, 1, "success")]
    assert rows[1]["error"]["code"] == "no_head_found"
    assert rows[2]["circumference_mm"] > 0


@pytest.mark.parametrize("bomb", [lambda: png_header_only(9000, 9000), lambda: deflated_dicom(600)],
                         ids=["pixel limit", "decoding memory limit"])
def test_every_entry_has_the_single_upload_bounds(client, bomb):
    """The pixel limit and the decoding sandbox apply to an image inside a zip as to POST /."""
    data = bomb()
    # Stored: the DICOM's own deflate stream would otherwise trip the zip's ratio limit first.
    rows = rows_of(post_batch(client, [zip_of({"bomb.dcm": data}, zipfile.ZIP_STORED)]))
    code, message, status = same_as_post(client, data)
    assert rows[0]["error"] == {"code": code, "message": message, "http_status": status} and status == 415
    assert "12,000,000 pixels" in message or "200 MB memory limit" in message


def test_a_damaged_entry_and_a_damaged_zip_are_error_rows(client, head):
    data, _ = head
    liar = understated_sizes(zip_of({"a.png": data}), 1000)
    rows = rows_of(post_batch(client, [liar, b"PK\x03\x04 not really a zip", zip_of({"notes.txt": b"x"}), data]))
    assert [r["error"]["code"] if r["status"] == "error" else "ok" for r in rows] == ["bad_zip"] * 3 + ["ok"]
    assert "damaged" in rows[0]["error"]["message"] and "no image files" in rows[2]["error"]["message"]


@pytest.mark.parametrize("how", ["encrypted", "bzip2", "ratio"])
def test_refused_entries_are_error_rows(client, head, how):
    data, _ = head
    zeros = b"\0" * (3 * 2**20)  # deflates about 1,000 times: a zip bomb's ratio
    archive = {"encrypted": lambda: encrypted(zip_of({"a.png": data})),
               "bzip2": lambda: zip_of({"a.png": data}, zipfile.ZIP_BZIP2),
               "ratio": lambda: zip_of({"a.bmp": zeros})}[how]()
    rows = rows_of(post_batch(client, [archive, data]))
    assert rows[0]["status"] == "error" and rows[0]["error"]["code"] == "zip_entry_refused"
    assert {"encrypted": "encrypted", "bzip2": "deflate", "ratio": "more than 100 times"}[how] in \
        rows[0]["error"]["message"]
    assert rows[1]["status"] == "success"


def test_an_entry_above_the_upload_limit_is_an_error_row(make_app, head):
    data, _ = head
    client = make_app(max_upload_bytes=len(data) - 1).test_client()
    rows = rows_of(post_batch(client, [data, zip_of({"a.png": data}, zipfile.ZIP_STORED)]))
    status, code, message = error_of(client.post("/", data={"image": upload(data)}, headers=JSON))
    assert (status, code) == (413, "file_too_large")
    assert [r["error"] for r in rows] == [{"code": code, "message": message, "http_status": 413}] * 2


@pytest.mark.parametrize("limit, files, code, says", [
    ({"batch_max_images": 2}, lambda: [black_png(), zip_of({"a.png": black_png(), "b.png": black_png()})],
     "too_many_images", "3 images, more than the limit of 2 per batch"),
    ({"batch_max_bytes": 100_000}, lambda: [black_png(), b"\0" * 120_000],
     "batch_too_large", "larger together than the 0.0953674 MB limit of one batch"),
    ({"zip_max_entries": 5}, lambda: [zip_of({f"{i}.png": b"x" for i in range(6)})],
     "zip_too_many_entries", "more than 5 entries"),
    ({"zip_max_entries": 5}, lambda: [with_declared_count(zip_of({f"{i}.png": b"x" for i in range(50)}), 2)],
     "zip_too_many_entries", "more than 5 entries"),
    ({"zip_max_bytes": 2**20}, lambda: [zip_of({"a.bmp": b"\0" * (2 * 2**20)})],
     "zip_too_large", "more than 1 MB, the limit for one batch"),
], ids=["images", "body", "entries", "entries, understated", "unpacked"])
def test_each_batch_limit_refuses_the_request_and_names_itself(make_app, limit, files, code, says):
    client = make_app(**limit).test_client()
    status, got, message = error_of(post_batch(client, files()))
    assert (status, got) == (413, code)
    assert says in message and ("Send" in message or "Zip" in message)


def test_fields_and_missing_images_refuse_the_batch(client):
    status, code, message = error_of(post_batch(client, [black_png()], pixel_size_mm="5"))
    assert (status, code) == (400, "invalid_field") and "'pixel_size_mm'" in message
    status, code, message = error_of(client.post("/batch", data={"image": upload(black_png())}, headers=JSON))
    assert (status, code) == (400, "missing_image") and "'images'" in message


def test_each_image_counts_against_the_upload_rate_limit(make_app):
    client = make_app(rate_limit="3/hour").test_client()
    assert post_batch(client, [black_png(), black_png()]).status_code == 200
    assert error_of(client.post("/", data={"image": upload(black_png())}, headers=JSON))[1] == "no_head_found"
    status, code, message = error_of(post_batch(client, [black_png()]))
    assert (status, code) == (429, "rate_limited") and "each image of a batch counts as one upload" in message
    fresh = make_app(rate_limit="3/hour").test_client()
    assert error_of(post_batch(fresh, [black_png()] * 4))[:2] == (429, "rate_limited")


def test_the_batch_is_checked_like_post(make_app, client):
    assert error_of(make_app(api_key="k").test_client().post(
        "/batch", data={"images": [upload(black_png())]}, headers=JSON))[:2] == (401, "unauthorized")
    forged = client.post("/batch", data={"images": [upload(black_png())]}, headers={**JSON, "X-CSRFToken": "forged"})
    assert error_of(forged)[:2] == (400, "csrf_failed")


def test_the_answer_matches_its_description(client, head):
    from jsonschema import Draft202012Validator
    doc = openapi_document()
    data, pixel_mm = head
    body = post_batch(client, [data, b"junk", zip_of({"a.png": data})], pixel_size_mm=str(pixel_mm)).get_json()
    Draft202012Validator({"$ref": "#/components/schemas/Batch", "components": doc["components"]}).validate(body)
    codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
    assert {"batch_too_large", "too_many_images", "zip_too_many_entries", "zip_too_large", "bad_zip",
            "zip_entry_refused"} <= set(codes)


def test_a_directory_too_large_for_the_entry_limit_is_refused_before_zipfile_reads_it(monkeypatch):
    from fetalhc.web import zips

    def never(*args, **kwargs):
        raise AssertionError("zipfile parsed a directory above the limit")

    archive = with_declared_count(zip_of({f"{i:03}.png": b"x" for i in range(150)}), 2)  # about 7.8 kB
    monkeypatch.setattr(zips.zipfile, "ZipFile", never)
    with pytest.raises(zips.BatchRefused) as refused:
        zips.open_zip(archive, max_entries=5)  # room for 5 x 1 kB
    assert refused.value.code == "zip_too_many_entries"


def test_an_entry_is_read_no_further_than_its_cap_whatever_its_header_says():
    from fetalhc.web.api_error import ApiError
    from fetalhc.web.zips import UnpackBudget, read_entry

    class Endless:
        """An entry that never ends, as a decompressor fed a lying header might behave."""
        served = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, n):
            Endless.served += n
            return b"\0" * n

    archive = zipfile.ZipFile(io.BytesIO(zip_of({"a.png": b"x" * 1000}, zipfile.ZIP_STORED)))
    archive.open = lambda *args, **kwargs: Endless()
    too_large = ApiError(413, "file_too_large", "too large")
    with pytest.raises(ApiError) as refused:
        read_entry(archive, archive.infolist()[0], 5000, 1e9, UnpackBudget(10**9, 10**9), too_large)
    assert refused.value is too_large and Endless.served == 5001
    budget = UnpackBudget(3000, 3000)  # the batch's budget is the nearest cap: the batch is refused
    with pytest.raises(ApiError) as refused:
        read_entry(archive, archive.infolist()[0], 5000, 1e9, budget, too_large)
    assert refused.value.code == "zip_too_large" and refused.value.status == 413
