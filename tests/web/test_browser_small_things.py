"""In a real browser (Debian's Chromium via Playwright): two-click and keyboard calibration, errors
brought into view with the focus, a new file clears the old result, the page without JavaScript,
and screenshots of the result view at desktop and tablet size."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from testkit.samples import HC18_IMAGE, black_png, hc18_reference, png_bytes

sync_api = pytest.importorskip("playwright.sync_api")

DESKTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
# Copies of the result view's screenshots for a person to look at, beside /tmp/fetalhc_page.png
# (tests/web/test_browser.py); the originals stay in each test's pytest temporary folder.
SCREENSHOT_COPIES = Path("/tmp")

# The synthetic ruler: 1 cm = 118 px, a long tick every centimetre, a short one every millimetre.
RULER_CM_PX = 118.0
RULER_ORIGIN = (60, 150)
RULER_SIZE = (1400, 300)  # wider than the dialog at either viewport: the image is always shown scaled


def ruler_png() -> bytes:
    width, height = RULER_SIZE
    img = np.full((height, width), 30, np.uint8)
    x0, y0 = RULER_ORIGIN
    cv2.line(img, (x0, y0), (width - 20, y0), 230, 1)
    for mm in range(int((width - 20 - x0) / RULER_CM_PX * 10) + 1):
        x = round(x0 + mm * RULER_CM_PX / 10)
        tall = 60 if mm % 10 == 0 else 20
        cv2.line(img, (x, y0 - tall), (x, y0), 230, 1)
        if mm % 10 == 0:
            cv2.putText(img, str(mm // 10), (x - 6, y0 - tall - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 230, 1)
    return png_bytes(img)


@pytest.fixture
def open_page(browser, live_url):
    """``open_page(viewport, javascript=True)``: a fresh page on the form; at the end no script error
    and no CSP violation may have happened."""
    contexts, problems = [], []

    def make(viewport: dict, javascript: bool = True):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        # The browser also logs each 4xx answer as an error; those are tested answers, not problems.
        page.on("console", lambda m: problems.append(m.text)
                if m.type == "error" and "server responded with a status of 4" not in m.text else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(live_url)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def choose(page, name: str, data: bytes, mime: str = "image/png"):
    page.set_input_files("#image", files=[{"name": name, "mimeType": mime, "buffer": data}])


def click_on_image(page, x: float, y: float):
    """Click the calibration image at (x, y) pixels of the original image, wherever it is shown."""
    box = page.locator("#calibrate-svg").bounding_box()
    width, height = RULER_SIZE
    page.locator("#calibrate-svg").click(position={"x": x * box["width"] / width, "y": y * box["height"] / height})
    return box["width"] / width


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_two_clicks_on_a_ruler_give_its_pixel_size(open_page, viewport):
    page = open_page(viewport)
    choose(page, "ruler.png", ruler_png())
    sync_api.expect(page.locator("#calibrate-open")).to_be_enabled()
    page.click("#calibrate-open")
    sync_api.expect(page.locator("#calibrate-dialog")).to_be_visible()
    x0, y0 = RULER_ORIGIN
    scale = click_on_image(page, x0, y0 - 30)                  # on the 0 cm tick
    assert scale < 0.95                                        # shown smaller than it is: the scaling matters
    sync_api.expect(page.locator("#calibrate-status")).to_contain_text("Point 1 is set")
    click_on_image(page, x0 + 5 * RULER_CM_PX, y0 - 30)        # on the 5 cm tick
    sync_api.expect(page.locator("#calibrate-status")).to_contain_text("px between the points")
    # The clicks land in original image pixels, within a shown pixel or two.
    assert float(page.input_value("#calibrate-x1")) == pytest.approx(x0, abs=2 / scale)
    assert float(page.input_value("#calibrate-x2")) == pytest.approx(x0 + 5 * RULER_CM_PX, abs=2 / scale)
    page.fill("#calibrate-distance", "5")
    page.select_option("#calibrate-unit", "cm")
    sync_api.expect(page.locator("#calibrate-status")).to_contain_text("mm per pixel")
    page.click("#calibrate-apply")

    sync_api.expect(page.locator("#calibrate-dialog")).to_be_hidden()
    pixel_size = float(page.input_value("#pixel_size_mm"))
    assert pixel_size == pytest.approx(10.0 / RULER_CM_PX, rel=0.01)
    source = page.locator("#pixel-source").inner_text()
    assert re.fullmatch(r"Pixel size from two points on the image, 50\.0 mm over 5\d\d\.\d px\.", source), source
    # Typing over it by hand: the pixel size is no longer the one from the points.
    page.fill("#pixel_size_mm", "0.1")
    sync_api.expect(page.locator("#pixel-source")).to_be_hidden()


def test_calibrating_with_the_keyboard_after_measuring_measures_again_in_mm(open_page, hc18):
    data, _, _ = hc18_reference(hc18)
    page = open_page(DESKTOP)
    choose(page, HC18_IMAGE, data)
    page.click("#submit")
    sync_api.expect(page.locator("#uncalibrated")).to_be_visible()
    assert page.locator("#hc-value").inner_text().endswith(" px")
    assert page.locator("#hc-label").inner_text() == "Head circumference, in image pixels (not calibrated)"

    page.locator("#uncalibrated a").focus()
    page.keyboard.press("Enter")  # the headline's "Calibrate from the image" opens the dialog
    sync_api.expect(page.locator("#calibrate-dialog")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "calibrate-x1"
    for text in ("100", "200", "300", "200", "16"):  # two points 200 px apart, 16 mm: 0.08 mm per pixel
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the unit (mm) to "Use this pixel size"
    assert page.evaluate("document.activeElement.id") == "calibrate-apply"
    page.keyboard.press("Enter")

    sync_api.expect(page.locator("#hc-value")).to_have_text(re.compile(r"^\d+\.\d\d mm$"))
    assert page.input_value("#pixel_size_mm") == "0.08"
    assert "0.08 mm/pixel" in page.locator("#rows").inner_text()
    assert page.locator("#uncalibrated").is_hidden()
    assert page.locator("#result-calibration").inner_text() == \
        "Pixel size from two points on the image, 16.0 mm over 200.0 px."


def test_an_error_is_brought_into_view_with_the_focus_and_a_new_file_clears_the_result(open_page, hc18):
    data, pixel_mm, _ = hc18_reference(hc18)
    page = open_page(DESKTOP)
    choose(page, HC18_IMAGE, data)
    page.fill("#pixel_size_mm", str(pixel_mm))
    page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_contain_text(" mm")

    choose(page, "blank.png", black_png())
    sync_api.expect(page.locator("#result")).to_be_hidden()  # no old result beside the new image
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.click("#submit")
    sync_api.expect(page.locator("#error")).to_contain_text("No fetal head was found")
    assert page.evaluate("document.activeElement.id") == "error"
    page.wait_for_function("""() => { const r = document.getElementById('error').getBoundingClientRect();
                                      return r.top >= 0 && r.bottom <= window.innerHeight; }""", timeout=5000)


def test_the_page_without_javascript_has_one_file_control_and_keeps_the_values(open_page, hc18):
    data, pixel_mm, _ = hc18_reference(hc18)
    page = open_page(DESKTOP, javascript=False)

    def one_file_control():
        assert page.locator("#image").is_visible() and page.locator(".dz-or").is_hidden()
        # Dropping needs JavaScript: the zone does not offer it (a drop beside the picker opens the file).
        assert page.get_by_text("Drop an ultrasound image here").is_hidden()
        assert page.locator("#calibrate-open").is_hidden()  # calibrating by clicks needs JavaScript

    one_file_control()
    choose(page, HC18_IMAGE, data)
    page.fill("#pixel_size_mm", str(pixel_mm))
    page.fill("#ga_weeks", "20")
    page.fill("#ga_days", "3")
    with page.expect_navigation():
        page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_have_text(re.compile(r"^\d+\.\d\d mm$"))
    assert (page.input_value("#pixel_size_mm"), page.input_value("#ga_weeks"), page.input_value("#ga_days")) == \
        (str(pixel_mm), "20", "3")
    one_file_control()

    choose(page, "blank.png", black_png())
    with page.expect_navigation():
        page.click("#submit")
    sync_api.expect(page.locator("#error")).to_contain_text("No fetal head was found")
    assert page.evaluate("document.activeElement.id") == "error"  # the error page gives it the focus
    assert page.input_value("#ga_weeks") == "20"


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_screenshots_of_the_result_view(open_page, hc18, viewport, tmp_path):
    data, pixel_mm, _ = hc18_reference(hc18)
    page = open_page(viewport)
    choose(page, HC18_IMAGE, data)
    page.fill("#pixel_size_mm", str(pixel_mm))
    page.fill("#ga_weeks", "20")
    page.fill("#ga_days", "3")
    page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_contain_text(" mm")
    # The page scrolls (smoothly) until the result's top is at the top of the screen.
    page.wait_for_function("() => Math.abs(document.getElementById('result').getBoundingClientRect().top) < 2",
                           timeout=5000)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing sticks out
    name = f"fetalhc_result_{viewport['width']}x{viewport['height']}.png"
    page.screenshot(path=str(tmp_path / name))
    shutil.copyfile(tmp_path / name, SCREENSHOT_COPIES / name)
