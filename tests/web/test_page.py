"""The HTML side: the form page, the result page without JavaScript, the model page, offline assets."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from fetalhc.paths import PROJECT_ROOT
from fetalhc.record import MeasurementAnswer
from fetalhc.record_csv import csv_text
from testkit.samples import BROWSER, JSON, black_png, hc18_reference, page_csrf_token, upload


class Tags(HTMLParser):
    """Every start tag of a page as (tag, attributes)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def post_form(client, data: dict, token: str | None):
    """Like a browser without JavaScript: a plain form post, HTML expected."""
    fields = {"overlay": "1", "pixel_size_mm": "", "ga_weeks": "", "ga_days": "", "frame": "0", **data}
    if token is not None:
        fields["csrf_token"] = token
    return client.post("/", data=fields, headers=BROWSER)


def test_form_has_every_field_with_a_label(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = Tags(response.get_data(as_text=True))
    form = page.find("form", id="measure-form")[0]
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data" and form["action"] == "/"
    labelled = {a["for"] for a in page.find("label")}
    for name in ("image", "pixel_size_mm", "ga_weeks", "ga_days", "frame"):
        (field,) = page.find("input", name=name)
        assert field["id"] in labelled, name
    assert page.find("input", name="image")[0]["type"] == "file"
    assert page.find("input", name="pixel_size_mm")[0]["min"] == "0.01"
    assert page.find("input", type="hidden", name="csrf_token")[0]["value"]
    assert "Research use only" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/model", "/docs", "/no-such-page"])
def test_pages_use_no_inline_code_and_no_external_resources(client, path):
    html = client.get(path, headers=BROWSER).get_data(as_text=True)
    page = Tags(html)
    assert all("src" in a for a in page.find("script")), "inline script: the CSP forbids it"
    assert not page.find("style")
    assert not [a for _, a in page.tags if "style" in a or any(k.startswith("on") for k in a)]
    urls = [a.get("src") or a.get("href") for _, a in page.tags if a.get("src") or a.get("href")]
    assert urls and all(u.startswith(("/", "#", "data:")) and not u.startswith("//") for u in urls), urls


def test_static_files_reference_nothing_outside_the_app():
    # The vendored Swagger UI in static/swagger-ui/ is checked against its digests (test_docs_page.py).
    for path in (p for p in (PROJECT_ROOT / "static").iterdir() if p.is_file()):
        text = path.read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)|@import|url\(", text), path.name
    for path in (PROJECT_ROOT / "templates").glob("*.html"):
        assert not re.search(r"https?://|<style|style=|<script>", path.read_text()), path.name


def test_static_assets_are_served(client):
    for name in ("app.css", "app.js", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200


def test_form_post_without_javascript_renders_the_result(client, hc18):
    data, pixel_mm, _ = hc18_reference(hc18)
    token = page_csrf_token(client)
    response = post_form(client, {"image": upload(data), "pixel_size_mm": str(pixel_mm), "ga_weeks": "20",
                                  "ga_days": "1"}, token)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    page = Tags(html)
    expected = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_mm)}, headers=JSON).get_json()
    assert re.search(r'id="hc-value"[^>]*>' + re.escape(expected["circumference"]) + " mm<", html)
    assert "hidden" in page.find("p", id="uncalibrated")[0]
    assert page.find("img", id="overlay-img")[0]["src"].startswith("data:image/png;base64,iVBOR")
    assert page.find("a", id="dl-json")[0]["href"].startswith("data:application/json")
    for label in ("BPD", "OFD", "Cephalic index", "GA (Hadlock)", "GA (INTERGROWTH-21st)", "HC at 20w 1d"):
        assert f"<dt>{label}</dt>" in html
    assert "hidden" not in page.find("section", id="result")[0]


def test_the_result_page_without_javascript_links_the_servers_csv(client, hc18):
    """Without JavaScript "Result CSV" is a link: the CSV that POST /csv makes of the record the page offers."""
    data, pixel_mm, _ = hc18_reference(hc18)
    response = post_form(client, {"image": upload(data), "pixel_size_mm": str(pixel_mm)}, page_csrf_token(client))
    page = Tags(response.get_data(as_text=True))
    (link,) = page.find("a", id="dl-csv-link")
    assert link["download"] == "fetalhc-result.csv" and "without-js" in link["class"].split()
    kind, _, text = link["href"].partition(",")
    assert kind == "data:text/csv;charset=utf-8"
    record = json.loads(unquote(page.find("a", id="dl-json")[0]["href"].partition(",")[2]))
    assert unquote(text) == csv_text(MeasurementAnswer.model_validate(record))
    assert unquote(text) == client.post("/csv", json=record, headers=JSON).get_data(as_text=True)


def test_uncalibrated_result_page_warns(client, hc18):
    data, _, _ = hc18_reference(hc18)
    response = post_form(client, {"image": upload(data)}, page_csrf_token(client))
    page = Tags(response.get_data(as_text=True))
    assert "hidden" not in page.find("p", id="uncalibrated")[0]
    assert " px<" in response.get_data(as_text=True)


def test_form_post_errors_show_on_the_form(client):
    token = page_csrf_token(client)
    response = post_form(client, {"image": upload(black_png())}, token)
    assert response.status_code == 422
    page = Tags(response.get_data(as_text=True))
    assert "hidden" not in page.find("p", id="error")[0]
    assert "No fetal head was found" in response.get_data(as_text=True)
    assert page.find("form", id="measure-form")
    response = post_form(client, {"image": upload(black_png()), "pixel_size_mm": "9"}, token)
    assert response.status_code == 400 and "pixel_size_mm" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_form_post_needs_the_csrf_token(client, token):
    page_csrf_token(client)  # the browser has a session
    response = post_form(client, {"image": upload(black_png())}, token)
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)


def test_csrf_token_from_another_session_is_refused(app):
    other = app.test_client()
    response = post_form(app.test_client(), {"image": upload(black_png())}, page_csrf_token(other))
    assert response.status_code == 400


def test_page_script_request_uses_the_token_header(client, hc18):
    """What static/app.js sends: JSON wanted, the token in X-CSRFToken, the session cookie."""
    data, pixel_mm, _ = hc18_reference(hc18)
    token = page_csrf_token(client)
    response = client.post("/", data={"image": upload(data, "upload"), "pixel_size_mm": str(pixel_mm), "overlay": "1",
                                      "csrf_token": token}, headers={**JSON, "X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["overlay_png_base64"]
    refused = client.post("/", data={"image": upload(data)}, headers={**JSON, "X-CSRFToken": "forged"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed"


def test_model_page_shows_the_card(client, segmenter):
    html = client.get("/model", headers=BROWSER).get_data(as_text=True)
    assert segmenter.name in html and segmenter.version in html
    assert "not for diagnostic use" in html
    for key in ("architecture", "intended_use"):
        if key in segmenter.card:
            assert key.replace("_", " ") in html


def test_model_json(client, segmenter):
    for kwargs in ({"headers": JSON}, {"query_string": {"format": "json"}}, {}):  # curl: JSON too
        body = client.get("/model", **kwargs).get_json()
        assert body["model"] == {"name": segmenter.name, "version": segmenter.version}
        assert body["card"] == segmenter.card and "not for diagnostic use" in body["notice"]


def test_pages_without_a_model_say_so(app_without_model):
    client = app_without_model.test_client()
    home = client.get("/")
    assert home.status_code == 200 and "model is not loaded" in home.get_data(as_text=True)
    assert "disabled" in Tags(home.get_data(as_text=True)).find("button", id="submit")[0]
    assert client.get("/model").status_code == 503

