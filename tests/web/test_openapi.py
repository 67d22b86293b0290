"""/openapi.json matches the app: every route documented, every documented answer produced and valid."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from fetalhc.web.openapi import openapi_document
from testkit.samples import (JSON, black_png, dicom_bytes, hc18_pixels, hc18_reference, page_csrf_token,
                             png_header_only, upload)

DOC = openapi_document()
ELLIPSE = {"center_x_px": 400.0, "center_y_px": 270.0, "semi_major_px": 200.0, "semi_minor_px": 160.0, "angle_deg": 30.0}
UNDOCUMENTED_METHODS = {"HEAD", "OPTIONS"}


def documented() -> set[tuple[str, str, str]]:
    return {(path, method.upper(), status) for path, ops in DOC["paths"].items()
            for method, op in ops.items() for status in op["responses"]}


def validate(response, operation: dict) -> None:
    content = operation["responses"][str(response.status_code)]["content"]
    assert response.mimetype in content, (response.mimetype, list(content))
    if response.mimetype == "application/json":
        schema = {**content["application/json"]["schema"], "components": DOC["components"]}
        Draft202012Validator(schema).validate(response.get_json())


def test_served_document_is_the_description(client):
    assert client.get("/openapi.json").get_json() == DOC
    assert DOC["openapi"].startswith("3.1")
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_route_is_documented_and_every_documented_route_exists(app):
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - UNDOCUMENTED_METHODS}
    assert routes == {(path, method) for path, method, _ in documented()}


@pytest.fixture(scope="module")
def clients(make_app, app, app_without_model):
    return {"app": app.test_client(), "keyed": make_app(api_key="k").test_client(),
            "limited": make_app(rate_limit="1/hour", ellipse_rate_limit="1/hour").test_client(),
            "no_model": app_without_model.test_client(),
            "small_uploads": make_app(max_upload_bytes=10_000).test_client()}


def _requests(hc18, record):
    """For each documented answer: which client sends what; ``record`` is a JSON answer of POST /ellipse."""
    data, pixel_mm, _ = hc18_reference(hc18)
    post = {"headers": JSON}
    cine = dicom_bytes(hc18_pixels(hc18)[None].repeat(2, axis=0), pixel_spacing_mm=pixel_mm)
    return {
        ("/", "POST", "200"): ("app", {"data": {"image": upload(data), "pixel_size_mm": str(pixel_mm), "ga_weeks": "20",
                                                "overlay": "1"}, **post}),
        ("/", "POST", "400"): ("app", {"data": {"image": upload(cine), "frame": "5"}, **post}),
        ("/", "POST", "401"): ("keyed", {"data": {"image": upload(data)}, **post}),
        ("/", "POST", "413"): ("small_uploads", {"data": {"image": upload(data)}, **post}),
        ("/", "POST", "406"): ("app", {"data": {"image": upload(data)}, "headers": {"Accept": "application/xml"}}),
        ("/", "POST", "415"): ("app", {"data": {"image": upload(png_header_only(9000, 9000))}, **post}),
        ("/", "POST", "422"): ("app", {"data": {"image": upload(black_png())}, **post}),
        ("/", "POST", "429"): ("limited", {"data": {"image": upload(black_png())}, **post}),
        ("/", "POST", "503"): ("no_model", {"data": {"image": upload(data)}, **post}),
        ("/ellipse", "POST", "200"): ("app", {"json": {"ellipse": ELLIPSE, "image": {"width": 800, "height": 540},
                                                       "pixel_size_mm": pixel_mm, "ga_weeks": 20,
                                                       "automatic": ELLIPSE}, **post}),
        ("/ellipse", "POST", "400"): ("app", {"json": {"ellipse": ELLIPSE}, **post}),
        ("/ellipse", "POST", "401"): ("keyed", {"json": {"ellipse": ELLIPSE, "image": {"width": 8, "height": 8}},
                                                **post}),
        ("/ellipse", "POST", "413"): ("app", {"data": "[" + " " * 10_000 + "]", "content_type": "application/json",
                                              **post}),
        ("/ellipse", "POST", "429"): ("limited", {"json": {"ellipse": ELLIPSE, "image": {"width": 800, "height": 540}},
                                                  **post}),
        ("/ellipse", "POST", "503"): ("no_model", {"json": {"ellipse": ELLIPSE, "image": {"width": 8, "height": 8}},
                                                   **post}),
        ("/csv", "POST", "200"): ("app", {"json": record, **post}),
        ("/csv", "POST", "400"): ("app", {"json": {**record, "circumference_mm": "long"}, **post}),
        ("/csv", "POST", "413"): ("app", {"json": {**record, "overlay_png_base64": "A" * 64_000}, **post}),
        ("/csv", "POST", "429"): ("limited", {"json": record, **post}),
        ("/batch", "POST", "200"): ("app", {"data": {"images": [upload(data), upload(b"junk")],
                                                     "pixel_size_mm": str(pixel_mm)}, **post}),
        ("/batch", "POST", "400"): ("app", {"data": {"pixel_size_mm": str(pixel_mm)}, **post}),
        ("/batch", "POST", "401"): ("keyed", {"data": {"images": [upload(data)]}, **post}),
        ("/batch", "POST", "413"): ("app", {"data": {"images": [upload(b"x") for _ in range(21)]}, **post}),
        ("/batch", "POST", "429"): ("limited", {"data": {"images": [upload(black_png())]}, **post}),
        ("/batch", "POST", "503"): ("no_model", {"data": {"images": [upload(data)]}, **post}),
        ("/", "GET", "200"): ("app", {}),
        ("/health", "GET", "200"): ("app", {}),
        ("/health", "GET", "503"): ("no_model", {}),
        ("/openapi.json", "GET", "200"): ("app", {}),
        ("/chart.svg", "GET", "200"): ("app", {"query_string": {"hc_mm": "172.5", "ga_weeks": "20", "ga_days": "3"}}),
        ("/chart.svg", "GET", "400"): ("app", {"query_string": {"hc_mm": "172.5", "ga_weeks": "12"}}),
        ("/docs", "GET", "200"): ("app", {}),
        ("/model", "GET", "200"): ("app", {"headers": JSON}),
        ("/model", "GET", "503"): ("no_model", {"headers": JSON}),
        ("/key", "POST", "303"): ("keyed", {"data": {"api_key": "k"}}),
        ("/key", "POST", "400"): ("keyed", {"data": {"api_key": "k"}, "headers": JSON}),
        ("/key", "POST", "401"): ("keyed", {"data": {"api_key": "wrong"}}),
    }


def test_every_documented_answer_is_produced_and_matches_its_schema(clients, hc18):
    record = clients["app"].post("/ellipse", json={"ellipse": ELLIPSE, "image": {"width": 800, "height": 540}},
                                 headers=JSON).get_json()
    requests = _requests(hc18, record)
    assert set(requests) == documented()
    for (path, method, status), (who, kwargs) in requests.items():
        client = clients[who]
        if who == "limited" and path in ("/ellipse", "/csv"):  # use up the edits' limit, or this route's
            client.post(path, json=kwargs["json"], headers=JSON)
        elif who == "limited":  # use up the limit
            client.post("/", data={"image": upload(black_png())}, headers=JSON)
        if path == "/key" and status != "400":  # the key form is posted from the page, with its token
            kwargs = {"data": {**kwargs["data"], "csrf_token": page_csrf_token(client)}}
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == int(status), (path, method, status, response.get_data(as_text=True)[:200])
        validate(response, DOC["paths"][path][method.lower()])


def test_the_html_answers_are_documented(client, hc18):
    """Without a JSON request, POST / and /model answer HTML, which the description lists too."""
    data, _, _ = hc18_reference(hc18)
    validate(client.get("/model"), DOC["paths"]["/model"]["get"])
    form = client.post("/", data={"image": upload(data), "csrf_token": page_csrf_token(client)})
    validate(form, DOC["paths"]["/"]["post"])


def test_error_codes_are_documented():
    codes = set(DOC["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    assert {"missing_image", "invalid_field", "invalid_frame", "unauthorized", "file_too_large", "unsupported_image",
            "no_head_found", "rate_limited", "model_unavailable", "csrf_failed"} <= codes
