"""The growth chart and the reports in a real browser (Debian's Chromium via Playwright): the chart beside
a result, printing the result view to PDF (one page), and the API's PDF downloaded from the page."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from testkit.browser import watched_page
from testkit.samples import HC18_IMAGE, hc18_reference

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(browser, live_url):
    with watched_page(browser, live_url, 1366, 768) as page:
        yield page


def _measure(page, hc18, weeks: str, days: str) -> str:
    _, pixel_mm, _ = hc18_reference(hc18)
    page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
    page.fill("#pixel_size_mm", f"{pixel_mm:.6f}")
    page.fill("#ga_weeks", weeks)
    page.fill("#ga_days", days)
    page.click("#submit")
    hc = page.locator("#hc-value")
    sync_api.expect(hc).to_have_text(re.compile(r"^\d+\.\d\d mm$"))
    return hc.inner_text()


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_the_chart_is_drawn_beside_the_result_and_follows_it(page, hc18):
    hc = _measure(page, hc18, "20", "3")
    chart = page.locator("#growth-chart svg")
    sync_api.expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 5
    assert f"HC {hc} at 20w 3d" in chart.locator("g.measurement text").text_content()
    assert chart.get_attribute("role") == "img"
    # What slice A's editor calls with a changed record: the chart redraws for it.
    page.evaluate("window.fetalhcChart.update({circumference_mm: 200.5, centile: {ga_weeks: 20.43, z: 0}})")
    sync_api.expect(chart.locator("g.measurement text")).to_contain_text("HC 200.50 mm at 20w 3d")
    page.set_input_files("#image", [])  # another choice of file clears the result, and the chart with it
    sync_api.expect(page.locator("#growth-chart")).to_be_hidden()


def test_without_an_age_the_chart_is_drawn_at_the_hadlock_age_on_request(page, hc18):
    # The sample head (HC about 72 mm) dates to 13 weeks, before the standard begins: no offer.
    _measure(page, hc18, "", "")
    sync_api.expect(page.locator("#growth-chart")).to_be_hidden()
    offer = page.locator("#chart-hadlock")
    sync_api.expect(offer).to_be_hidden()
    # A larger pixel size makes the same head 20 weeks old by Hadlock (inside the standard).
    _, pixel_mm, _ = hc18_reference(hc18)
    page.fill("#pixel_size_mm", f"{pixel_mm * 2.4:.6f}")
    page.click("#submit")
    hc = page.locator("#hc-value")
    sync_api.expect(offer).to_be_visible()
    hc = hc.inner_text()
    page.click("#chart-hadlock-button")
    chart = page.locator("#growth-chart svg")
    sync_api.expect(chart).to_be_visible()
    sync_api.expect(offer).to_be_hidden()
    label = chart.locator("g.measurement text").text_content()
    ga_text = page.locator("#rows dt", has_text="GA (Hadlock)").locator("xpath=../dd").inner_text()
    assert label.startswith(f"HC {hc} at ") and label.split(" at ")[1] in ga_text


def test_no_chart_before_the_standard_begins(page, hc18):
    _measure(page, hc18, "13", "0")  # 13 weeks: no centile, so no chart
    page.wait_for_load_state("networkidle")
    assert page.locator("#growth-chart").is_hidden() and page.locator("#dl-pdf").is_visible()


def test_printing_the_result_view_gives_one_page_with_the_hc(page, hc18, tmp_path):
    hc = _measure(page, hc18, "20", "3")
    sync_api.expect(page.locator("#growth-chart svg")).to_be_visible()
    page.emulate_media(media="print")
    assert page.locator("#measure-form").is_hidden() and page.locator("header.site").is_hidden()
    assert page.locator(".notice").is_visible()  # the research-use note is printed
    # The ellipse editor's handles (static/edit.js, where the page has it) are page controls, not the report.
    assert not any(h.is_visible() for h in page.locator(".edit-handle").all())
    data = page.pdf(format="A4", print_background=True)
    (tmp_path / "printed-result.pdf").write_bytes(data)
    pages, text = _pdf_text(data)
    assert pages == 1
    assert hc in text and "Research use only" in text and "Alert:" in text
    assert "Gestational age (weeks)" in text  # the chart is on the page
    assert "Measure head circumference" not in text  # the form is not


def test_the_pdf_report_downloads_from_the_page(page, hc18, tmp_path):
    hc = _measure(page, hc18, "20", "3")
    page.fill("#exam_label", "Room 2, scan 3")
    with page.expect_download() as download:
        page.click("#dl-pdf")
    assert re.fullmatch(r"fetalhc-report-\d{8}-\d{6}Z\.pdf", download.value.suggested_filename)
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    pages, text = _pdf_text(path.read_bytes())
    assert pages == 1 and f"HC {hc}" in text and "Exam label: Room 2, scan 3" in text
    assert "(!) ALERT:" in text and "HC at 20w 3d" in text


def test_a_refused_label_is_explained_on_the_page(page, hc18):
    _measure(page, hc18, "20", "3")
    page.fill("#exam_label", "scan 检查")
    page.click("#dl-pdf")
    sync_api.expect(page.locator("#pdf-status")).to_contain_text("cannot print")
