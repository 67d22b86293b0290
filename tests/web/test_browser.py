"""The page in a real browser (Debian's Chromium via Playwright) against a live server."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from testkit.browser import watched_page
from testkit.samples import HC18_IMAGE, black_png, dicom_bytes, hc18_pixels, hc18_reference

SCREENSHOT_COPY = Path("/tmp/fetalhc_page.png")  # for a person to look at the design

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(browser, live_url):
    with watched_page(browser, live_url) as page:
        yield page


def test_upload_measure_and_download(page, hc18, tmp_path):
    _, pixel_mm, reference_mm = hc18_reference(hc18)
    page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
    sync_api.expect(page.locator("#preview-img")).to_be_visible()
    assert page.locator("#file-name").inner_text().startswith(HC18_IMAGE)
    page.fill("#pixel_size_mm", f"{pixel_mm:.6f}")
    page.fill("#ga_weeks", "20")
    page.fill("#ga_days", "3")
    page.click("#submit")

    hc = page.locator("#hc-value")
    sync_api.expect(hc).to_have_text(re.compile(r"^\d+\.\d\d mm$"))
    assert float(hc.inner_text().split()[0]) == pytest.approx(reference_mm, abs=4.0)
    assert page.locator("#uncalibrated").is_hidden()
    assert "HC at 20w 3d" in page.locator("#rows").inner_text()
    assert page.locator("#overlay-img").evaluate("img => img.naturalWidth") == 800
    sync_api.expect(page.locator("#quality-badge")).to_have_text(re.compile("Good|Fair|Poor"))

    with page.expect_download() as download:
        page.click("#dl-csv")
    csv_path = tmp_path / "result.csv"
    download.value.save_as(csv_path)
    header, values = csv_path.read_text().splitlines()
    assert "circumference_mm" in header.split(",") and "overlay_png_base64" not in header

    with page.expect_download() as download:
        page.click("#dl-json")
    json_path = tmp_path / "result.json"
    download.value.save_as(json_path)
    record = json.loads(json_path.read_text())
    assert f"{record['circumference']} mm" == hc.inner_text()
    # static/app.js renders the record's rows, the ones the server renders for the same result.
    shown = list(zip(page.locator("#rows dt").all_inner_texts(), page.locator("#rows dd").all_inner_texts()))
    assert shown == [(row["label"], row["value"]) for row in record["summary"]] and len(shown) >= 5

    shot = tmp_path / "fetalhc_page.png"
    page.screenshot(path=str(shot), full_page=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)


def test_uncalibrated_result_on_a_tablet(page, hc18, tmp_path):
    page.set_viewport_size({"width": 768, "height": 1024})  # iPad portrait
    page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
    page.click("#submit")
    sync_api.expect(page.locator("#uncalibrated")).to_be_visible()
    assert page.locator("#hc-value").inner_text().endswith(" px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768  # nothing sticks out sideways
    page.screenshot(path=str(tmp_path / "tablet.png"), full_page=True)


def test_errors_are_shown_and_the_form_stays_usable(page):
    page.set_input_files("#image", files=[{"name": "blank.png", "mimeType": "image/png", "buffer": black_png()}])
    page.click("#submit")
    sync_api.expect(page.locator("#error")).to_contain_text("No fetal head was found")
    assert page.locator("#result").is_hidden()
    assert page.locator("#submit").is_enabled() and page.locator("#busy").is_hidden()


def test_dicom_shows_a_note_and_the_frame_field(page, hc18):
    assert page.locator("#frame-field").is_hidden()
    dicom = dicom_bytes(hc18_pixels(hc18), pixel_spacing_mm=0.08)
    page.set_input_files("#image", files=[{"name": "scan.dcm", "mimeType": "application/dicom", "buffer": dicom}])
    sync_api.expect(page.locator("#preview-note")).to_contain_text("DICOM selected")
    assert page.locator("#frame-field").is_visible()
    page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_contain_text(" mm")


def test_file_picker_is_reached_with_the_keyboard(page):
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "image":
            break
    else:
        pytest.fail("Tab never reached the file input")
    outline = page.locator("#dropzone").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"  # the drop zone shows where the focus is
