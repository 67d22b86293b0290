"""The ellipse editor in a real browser: drag a handle or use the keyboard, and the page shows the record
the server computes for the ellipse it reports (static/edit.js, POST /ellipse)."""
from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from testkit.browser import watched_page
from testkit.samples import HC18_IMAGE, hc18_reference

SCREENSHOT_COPY = Path("/tmp/fetalhc_edit.png")  # for a person to look at, beside /tmp/fetalhc_page.png
FOCUS_STROKE = "rgb(255, 191, 71)"  # --focus in static/app.css

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page(browser, live_url):
    with watched_page(browser, live_url) as page:
        yield page


@pytest.fixture
def measured(page, hc18):
    """The page with the HC18 image measured (pixel size and a gestational age): its automatic HC in mm."""
    _, pixel_mm, _ = hc18_reference(hc18)
    page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
    page.fill("#pixel_size_mm", f"{pixel_mm:.6f}")
    page.fill("#ga_weeks", "20")
    page.fill("#ga_days", "3")
    page.click("#submit")
    sync_api.expect(page.locator("#hc-value")).to_have_text(re.compile(r"^\d+\.\d\d mm$"))
    sync_api.expect(page.locator(".edit-handle-major")).to_be_visible()
    _still(page)  # the result scrolls into view smoothly; handles are found where they come to rest
    page.locator(".edit-stage").scroll_into_view_if_needed()
    return _hc(page), pixel_mm


def _still(page) -> None:
    last = None
    while (now := page.evaluate("[scrollX, scrollY]")) != last:
        last = now
        page.wait_for_timeout(150)


def _hc(page) -> float:
    return float(page.locator("#hc-value").inner_text().split()[0])


def _settled(page) -> dict:
    """Once the page shows the record of the ellipse it draws: that ellipse."""
    page.wait_for_function("() => { const s = document.querySelector('.edit-stage'); "
                           "return s.dataset.source === 'edited' && "
                           "s.dataset.ellipse === document.querySelector('.edit-layer').dataset.ellipse; }")
    return json.loads(page.locator(".edit-stage").get_attribute("data-ellipse"))


def _server_hc(page, live_url: str, ellipse: dict, pixel_mm: float) -> float:
    """What POST /ellipse answers for that ellipse, asked directly (not through the page)."""
    response = page.request.post(f"{live_url}/ellipse", headers={"Accept": "application/json"}, data={
        "ellipse": ellipse, "image": {"width": 800, "height": 540}, "pixel_size_mm": pixel_mm,
        "ga_weeks": 20, "ga_days": 3})
    assert response.ok, response.text()
    return response.json()["circumference_mm"]


def _center(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_drag_an_axis_handle_and_the_hc_is_the_servers(page, measured, live_url, tmp_path):
    automatic_hc, pixel_mm = measured
    (cx, cy), (mx, my) = _center(page, ".edit-handle-center"), _center(page, ".edit-handle-major")
    ux, uy = (mx - cx) / math.hypot(mx - cx, my - cy), (my - cy) / math.hypot(mx - cx, my - cy)
    page.mouse.move(mx, my)
    page.mouse.down()
    for step in range(1, 11):  # 40 screen pixels outwards along the long axis, in small moves
        page.mouse.move(mx + 4 * step * ux, my + 4 * step * uy)
    page.mouse.up()
    ellipse = _settled(page)
    shown = _hc(page)
    assert shown > automatic_hc + 2  # a longer axis: a longer HC
    assert shown == pytest.approx(_server_hc(page, live_url, ellipse, pixel_mm), abs=0.1)
    rows = page.locator("#rows").inner_text()
    assert "none for an ellipse edited by hand" in rows and f"HC {automatic_hc:.2f} mm" in rows
    sync_api.expect(page.locator("#confidence")).to_have_text("not measured for an edited ellipse")
    assert page.locator("#edit-status").inner_text().startswith("Edited: HC")

    # Accept: the handles go, the values stay, and the downloaded record is the edited one.
    page.click("#edit-accept")
    sync_api.expect(page.locator("#edit-status")).to_have_text(re.compile("^Accepted: the edited ellipse"))
    assert page.locator(".edit-handle").evaluate_all("hs => hs.every(h => getComputedStyle(h).display === 'none')")
    assert _hc(page) == shown and page.locator("#edit-accept").is_disabled()
    with page.expect_download() as download:
        page.click("#dl-json")
    path = tmp_path / "edited.json"
    download.value.save_as(path)
    record = json.loads(path.read_text())
    assert record["ellipse_source"] == "edited" and record["circumference_mm"] == shown
    assert record["automatic"]["circumference_mm"] == automatic_hc
    page.screenshot(path=str(tmp_path / "edit.png"), full_page=True)
    shutil.copyfile(tmp_path / "edit.png", SCREENSHOT_COPY)

    # Reset: the automatic fit again, editable.
    page.click("#edit-reset")
    sync_api.expect(page.locator("#hc-value")).to_have_text(f"{automatic_hc:.2f} mm")
    assert page.locator(".edit-stage").get_attribute("data-source") == "automatic"
    sync_api.expect(page.locator(".edit-handle-major")).to_be_visible()


def test_the_keyboard_moves_a_handle_and_the_hc_is_the_servers(page, measured, live_url):
    automatic_hc, pixel_mm = measured
    handle = page.locator(".edit-handle-minor")
    handle.focus()
    assert "short axis" in handle.get_attribute("aria-label")
    assert handle.evaluate("h => getComputedStyle(h).stroke") == FOCUS_STROKE  # the selected handle shows it
    for _ in range(3):
        page.keyboard.press("Shift+ArrowUp")  # 3 x 10 pixels longer
    page.keyboard.press("ArrowDown")  # and 1 shorter
    ellipse = _settled(page)
    assert handle.get_attribute("aria-valuetext") == f"semi-minor axis {round(ellipse['semi_minor_px'], 2):g} pixels"
    assert float(handle.get_attribute("aria-valuenow")) == pytest.approx(ellipse["semi_minor_px"], abs=0.01)
    shown = _hc(page)
    assert shown > automatic_hc + 2
    assert shown == pytest.approx(_server_hc(page, live_url, ellipse, pixel_mm), abs=0.1)
    # The centre and the rotation move from the keyboard too; the record follows.
    page.locator(".edit-handle-rotate").focus()
    page.keyboard.press("Shift+ArrowRight")
    turned = _settled(page)
    assert turned["angle_deg"] == pytest.approx(ellipse["angle_deg"] + 10)
    page.keyboard.press("Tab")  # away from the handles: the arrows scroll the page again, nothing moves
    page.keyboard.press("ArrowDown")
    assert json.loads(page.locator(".edit-layer").get_attribute("data-ellipse")) == turned


def test_a_finger_drags_the_centre_on_a_tablet(browser, live_url, hc18):
    """Touch goes through the same pointer events: a touch drag of the centre handle moves the ellipse
    along the finger only (the page does not pan, and the image stays put while the rows above it change),
    and the page shows the server's record for it (Chromium's touch input, through the DevTools protocol)."""
    context = browser.new_context(viewport={"width": 820, "height": 1180}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_url)
        page.set_input_files("#image", str(hc18 / "training_set" / HC18_IMAGE))
        page.click("#submit")
        sync_api.expect(page.locator(".edit-handle-center")).to_be_visible()
        _still(page)
        page.locator(".edit-stage").scroll_into_view_if_needed()
        before = json.loads(page.locator(".edit-stage").get_attribute("data-ellipse"))
        x, y = _center(page, ".edit-handle-center")
        cdp = context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for step in range(1, 11):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + 2 * step, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        moved = _settled(page)
        assert moved["center_x_px"] > before["center_x_px"] + 5
        assert moved["center_y_px"] == pytest.approx(before["center_y_px"], abs=1)
        assert page.locator("#hc-value").inner_text().endswith(" px")  # uncalibrated: same size, same HC
    finally:
        context.close()
