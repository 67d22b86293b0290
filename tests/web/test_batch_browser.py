"""Several images at once in a real browser (Debian's Chromium via Playwright): three images in one
go, one left out, the mean of the other two, the CSV of the table; a zip beside them; one image
still takes the single-image road."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from testkit.browser import watched_page
from testkit.samples import black_png, hc18_reference
from testkit.zips import zip_of

sync_api = pytest.importorskip("playwright.sync_api")

IMAGES = ("010_HC.png", "000_HC.png", "001_HC.png")
SCREENSHOT_COPY = Path("/tmp/fetalhc_batch.png")  # for a person to look at, beside /tmp/fetalhc_page.png


@pytest.fixture
def page(browser, live_url):
    with watched_page(browser, live_url, 1366, 768) as page:
        yield page


def files(hc18, names=IMAGES) -> list[dict]:
    return [{"name": n, "mimeType": "image/png", "buffer": hc18_reference(hc18, n)[0]} for n in names]


def table_hc(page) -> list[float]:
    return [float(t.split()[0]) for t in page.locator("#batch-table tbody .batch-hc").all_inner_texts()]


def test_three_images_exclude_one_mean_of_the_others_and_the_csv(page, hc18, tmp_path):
    _, pixel_mm, _ = hc18_reference(hc18)
    page.set_input_files("#image", files=files(hc18))
    sync_api.expect(page.locator("#batch-chosen")).to_contain_text("3 files chosen")
    page.fill("#pixel_size_mm", f"{pixel_mm:.6f}")
    page.click("#submit")
    rows = page.locator("#batch-table tbody tr")
    sync_api.expect(rows).to_have_count(3)
    assert page.locator("#result").is_hidden()
    hcs = table_hc(page)
    assert all(t.endswith(" mm") for t in page.locator("#batch-table .batch-hc").all_inner_texts())
    assert len(set(hcs)) == 3
    # The thumbnails were made in the browser from the chosen files.
    assert page.locator("#batch-table img.thumb").evaluate_all("imgs => imgs.map(i => i.naturalWidth)") == [800] * 3
    assert page.locator("#batch-table .badge").count() == 3

    mean = page.locator("#batch-mean .batch-mean-value")
    assert float(mean.inner_text().split()[0]) == pytest.approx(sum(hcs) / 3, abs=0.006)
    page.uncheck("#keep-1")
    sync_api.expect(page.locator("#batch-mean")).to_contain_text("n = 2")
    assert float(mean.inner_text().split()[0]) == pytest.approx((hcs[0] + hcs[2]) / 2, abs=0.006)
    assert page.locator("#batch-table tbody tr").nth(1).get_attribute("class") == "excluded"

    with page.expect_download() as download:
        page.click("#batch-csv")
    path = tmp_path / "batch.csv"
    download.value.save_as(path)
    table = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [r["included"] for r in table] == ["true", "false", "true"]
    assert [r["calibrated"] for r in table] == ["true"] * 3  # the server's cells spell a boolean the same way
    assert [float(r["circumference_mm"]) for r in table] == hcs
    assert [r["status"] for r in table] == ["success"] * 3 and [r["index"] for r in table] == ["0", "1", "2"]
    assert not any(name in path.read_text() for name in IMAGES)  # no file name anywhere

    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)
    shutil.copyfile(tmp_path / "batch.png", SCREENSHOT_COPY)


def test_a_zip_and_a_bad_image_beside_a_good_one_on_a_tablet(page, hc18, tmp_path):
    page.set_viewport_size({"width": 820, "height": 1180})
    good = files(hc18, IMAGES[:1])
    archive = zip_of({"b.png": good[0]["buffer"], "a.png": black_png()})
    page.set_input_files("#image", files=[*good, {"name": "scan.png", "mimeType": "image/png", "buffer": b"junk"},
                                          {"name": "exam.zip", "mimeType": "application/zip", "buffer": archive}])
    page.click("#submit")
    rows = page.locator("#batch-table tbody tr")
    sync_api.expect(rows).to_have_count(4)
    assert [rows.nth(i).get_attribute("data-status") for i in range(4)] == ["success", "error", "error", "success"]
    assert "not a supported image" in rows.nth(1).locator(".batch-error").inner_text()
    assert "No fetal head" in rows.nth(2).locator(".batch-error").inner_text()
    # A file the browser cannot show, and the images of a zip (never unpacked in the browser), have a placeholder.
    assert page.locator("#batch-table .thumb.placeholder").all_inner_texts() == [
        "no preview", "zip, image 1", "zip, image 2"]
    # No pixel size: lengths in pixels, and no mean of pixels of different images.
    sync_api.expect(page.locator("#batch-mean")).to_contain_text("No kept image has an HC in mm")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820  # the table scrolls inside its card
    page.screenshot(path=str(tmp_path / "batch_tablet.png"), full_page=True)


def test_one_image_keeps_the_single_result(page, hc18):
    page.set_input_files("#image", files=files(hc18, IMAGES[:1]))
    assert page.locator("#batch-chosen").is_hidden()
    page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_contain_text(" px")
    assert page.locator("#batch").is_hidden()
