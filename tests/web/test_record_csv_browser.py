"""The page's "Result CSV" in a real browser: the server's CSV of the record the page shows (POST /csv),
for an automatic fit (alerts as their codes) and for an edited ellipse (its automatic.* columns)."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest

from fetalhc.record import MeasurementAnswer
from fetalhc.record_csv import csv_text
from testkit.browser import watched_page
from testkit.samples import HC18_IMAGE, hc18_reference

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(browser, live_url):
    with watched_page(browser, live_url) as page:
        yield page


def _download(page, selector: str, tmp_path) -> str:
    with page.expect_download() as download:
        page.click(selector)
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return path.read_text()


def _shown_record_and_csv(page, tmp_path) -> tuple[dict, dict[str, str]]:
    """The record the page offers as JSON, and its CSV, checked to be the server's CSV of that record."""
    record = json.loads(_download(page, "#dl-json", tmp_path))
    text = _download(page, "#dl-csv", tmp_path)
    assert text == csv_text(MeasurementAnswer.model_validate(record))
    header, row = csv.reader(io.StringIO(text))
    return record, dict(zip(header, row))


def test_the_pages_csv_is_the_servers_for_the_shown_record(page, hc18, tmp_path):
    _, pixel_mm, _ = hc18_reference(hc18)
    page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
    page.fill("#pixel_size_mm", f"{pixel_mm:.6f}")
    page.fill("#ga_weeks", "20")  # the image's HC dates it to about 13 weeks: alerts
    page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_have_text(re.compile(r"^\d+\.\d\d mm$"))

    record, row = _shown_record_and_csv(page, tmp_path)
    assert f"{record['circumference']} mm" == page.locator("#hc-value").inner_text()
    codes = [a["code"] for a in record["alerts"]]
    assert row["alerts"] == "; ".join(codes) and "below_3rd_centile" in codes
    assert page.locator("#alerts li").evaluate_all("lis => lis.map(li => li.dataset.code)") == codes
    assert float(row["circumference_interval_mm_low"]) == record["circumference_interval_mm"][0]
    assert row["ellipse_source"] == "automatic" and row["automatic.circumference_mm"] == ""


def test_an_edited_ellipses_csv_has_the_automatic_fit(page, hc18, tmp_path):
    _, pixel_mm, _ = hc18_reference(hc18)
    page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
    page.fill("#pixel_size_mm", f"{pixel_mm:.6f}")
    page.click("#submit")
    sync_api.expect(page.locator(".edit-handle-minor")).to_be_visible()
    automatic_hc = float(page.locator("#hc-value").inner_text().split()[0])
    page.locator(".edit-handle-minor").focus()
    page.keyboard.press("Shift+ArrowUp")  # 10 pixels longer: a longer HC
    page.wait_for_function("() => document.querySelector('.edit-stage').dataset.source === 'edited'")
    sync_api.expect(page.locator("#edit-status")).to_have_text(re.compile("^Edited: HC"))

    record, row = _shown_record_and_csv(page, tmp_path)
    assert record["ellipse_source"] == row["ellipse_source"] == "edited"
    assert float(row["circumference_mm"]) == record["circumference_mm"] > automatic_hc
    assert float(row["automatic.circumference_mm"]) == record["automatic"]["circumference_mm"] == automatic_hc
    assert float(row["automatic.ellipse.semi_minor_px"]) < float(row["ellipse.semi_minor_px"])
