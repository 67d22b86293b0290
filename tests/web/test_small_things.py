"""The small things of the result page, without a browser: one rounding of each value on the page, in
the overlay label, in the JSON and in the CSV; the page without JavaScript keeps the entered values; an
uncalibrated headline says it is in pixels and how to calibrate."""
from __future__ import annotations

import base64
import csv
import io
import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import cv2
import numpy as np
import pytest

from fetalhc.numbers import fixed
from fetalhc.overlay import draw_label
from testkit.samples import BROWSER, JSON, black_png, hc18_reference, page_csrf_token, upload


class Page(HTMLParser):
    """The start tags of a page by id, and the text inside each element with an id."""

    def __init__(self, html: str):
        super().__init__()
        self.attrs: dict[str, dict] = {}
        self.text: dict[str, str] = {}
        self._open: list[str | None] = []
        self.html = html
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.attrs[attrs["id"]] = attrs
            self.text[attrs["id"]] = ""
        if tag not in ("input", "img", "meta", "link", "br"):  # void elements have no end tag
            self._open.append(attrs.get("id"))

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._open):
            self.text[element_id] += data


def post_form(client, **fields):
    """A plain form post as a browser without JavaScript sends it."""
    data = {"csrf_token": page_csrf_token(client), "overlay": "1", "pixel_size_mm": "", "ga_weeks": "",
            "ga_days": "", "frame": "0", **fields}
    return client.post("/", data=data, headers=BROWSER)


@pytest.fixture(scope="module")
def calibrated_page(app, hc18):
    """The page without JavaScript after measuring the HC18 image with its pixel size at 20w 3d."""
    data, pixel_mm, _ = hc18_reference(hc18)
    response = post_form(app.test_client(), image=upload(data), pixel_size_mm=str(pixel_mm), ga_weeks="20",
                         ga_days="3")
    assert response.status_code == 200
    return Page(response.get_data(as_text=True)), pixel_mm


def test_page_overlay_label_json_and_csv_show_each_value_rounded_once(calibrated_page, client):
    page, _ = calibrated_page
    record = json.loads(unquote(page.attrs["dl-json"]["href"].split(",", 1)[1]))
    rows = dict(zip(re.findall(r"<dt>(.*?)</dt>", page.html), re.findall(r"<dd[^>]*>(.*?)</dd>", page.html)))
    hc_text = page.text["hc-value"]

    # The page's headline and rows are the JSON's numbers with their own two decimals.
    assert hc_text == f"{record['circumference']} mm" == f"{fixed(record['circumference_mm'])} mm"
    assert rows["BPD"] == f"{fixed(record['bpd_mm'])} mm" and rows["OFD"] == f"{fixed(record['ofd_mm'])} mm"
    low, high = record["circumference_interval_mm"]
    assert page.text["hc-interval"].endswith(f"{fixed(low)} to {fixed(high)} mm")
    # The clinical blocks quote the same HC, not a coarser copy of it.
    assert record["gestational_age"]["hadlock"]["hc_mm"] == record["circumference_mm"]
    assert record["gestational_age"]["intergrowth21"]["hc_mm"] == record["circumference_mm"]
    assert record["centile"]["hc_mm"] == record["circumference_mm"]
    # This HC (about 72 mm) is too small for INTERGROWTH-21st dating; the reason quotes it as the page does.
    assert record["gestational_age"]["intergrowth21"]["reason"].startswith(f"HC {record['circumference']} mm ")

    # The CSV of the record (POST /csv, as the page's "Result CSV" asks it) holds the same numbers.
    table = client.post("/csv", json=record, headers=JSON).get_data(as_text=True)
    header, cells = csv.reader(io.StringIO(table))
    row = dict(zip(header, cells))
    assert (row["circumference_mm"], row["bpd_mm"], row["circumference_interval_mm_low"]) == \
        (str(record["circumference_mm"]), str(record["bpd_mm"]), str(low))
    assert f"{float(row['circumference_mm']):.2f} mm" == hc_text

    # The overlay's label is exactly the page's text: drawing that text again over the label
    # changes no pixel, and drawing the HC 0.01 mm off does.
    png = base64.b64decode(page.attrs["overlay-img"]["src"].split(",", 1)[1])
    overlay = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    label = f"HC {hc_text}  BPD {rows['BPD']}  OFD {rows['OFD']}"
    redrawn = overlay.copy()
    draw_label(redrawn, label)
    assert np.array_equal(redrawn, overlay)
    off_by_one = overlay.copy()
    draw_label(off_by_one, label.replace(hc_text, f"{fixed(record['circumference_mm'] + 0.01)} mm", 1))
    assert not np.array_equal(off_by_one, overlay)


def test_the_page_without_javascript_keeps_the_entered_values(calibrated_page):
    page, pixel_mm = calibrated_page
    assert page.attrs["pixel_size_mm"]["value"] == str(pixel_mm)
    assert (page.attrs["ga_weeks"]["value"], page.attrs["ga_days"]["value"], page.attrs["frame"]["value"]) == \
        ("20", "3", "0")
    assert "choose the image again" in page.text["kept-note"]  # a browser never refills a file input


def test_an_error_page_keeps_the_entered_values_escaped_and_short(client):
    response = post_form(client, image=upload(black_png()), pixel_size_mm="0.1", ga_weeks="25")
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert "No fetal head was found" in page.text["error"] and "autofocus" in page.attrs["error"]
    assert (page.attrs["pixel_size_mm"]["value"], page.attrs["ga_weeks"]["value"]) == ("0.1", "25")

    typed = '"><script>alert(1)</script>' + "9" * 500
    response = post_form(client, image=upload(black_png()), ga_weeks=typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert Page(html).attrs["ga_weeks"]["value"] == typed[:100]


def test_the_form_page_starts_empty(client):
    page = Page(client.get("/", headers=BROWSER).get_data(as_text=True))
    assert page.attrs["pixel_size_mm"]["value"] == "" and page.attrs["frame"]["value"] == "0"
    assert "kept-note" not in page.attrs and "hidden" in page.attrs["error"]


def test_an_uncalibrated_headline_says_pixels_and_how_to_calibrate(client, hc18):
    data, _, _ = hc18_reference(hc18)
    page = Page(post_form(client, image=upload(data)).get_data(as_text=True))
    assert page.text["hc-value"].endswith(" px")
    assert page.text["hc-label"] == "Head circumference, in image pixels (not calibrated)"
    note = " ".join(page.text["uncalibrated"].split())
    assert "hidden" not in page.attrs["uncalibrated"]
    assert "in pixels of the image, not in millimetres" in note and "Calibrate from the image" in note
