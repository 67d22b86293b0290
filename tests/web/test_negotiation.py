"""POST / answers by the Accept header (format= overriding it); request ids; opt-in CORS."""
from __future__ import annotations

import pytest

from testkit.samples import BROWSER, JSON, error_of, head_phantom, page_csrf_token, png_bytes, upload

PHANTOM = png_bytes(head_phantom(400, 300, (110, 80)))


def _post(client, headers=None, **fields):
    return client.post("/", data={"image": upload(PHANTOM), "pixel_size_mm": "0.2", **fields}, headers=headers or {})


@pytest.mark.parametrize("accept, mimetype", [
    (None, "application/json"),                                   # no header
    ("*/*", "application/json"),                                  # curl's default
    ("application/json", "application/json"),
    ("application/xml, */*;q=0.1", "application/json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),  # a browser
    ("text/html, application/json", "text/html"),                 # equal quality: the client's order
    ("application/json, text/html", "application/json"),
    ("application/json;q=0.5, text/html", "text/html"),
    ("application/fhir+json", "application/fhir+json"),
    ("application/pdf", "application/pdf"),
    ("application/pdf, application/json;q=0.5", "application/pdf"),
])
def test_accept_header_chooses_the_answer(client, accept, mimetype):
    response = _post(client, {"Accept": accept} if accept else {}) if mimetype != "text/html" else \
        client.post("/", data={"image": upload(PHANTOM), "csrf_token": page_csrf_token(client)},
                    headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == mimetype


@pytest.mark.parametrize("accept", ["application/xml", "image/png", "*/*;q=0"])
def test_unsupported_accept_is_406_in_json(client, accept):
    status, code, message = error_of(_post(client, {"Accept": accept}))
    assert (status, code) == (406, "not_acceptable") and "application/fhir+json" in message


@pytest.mark.parametrize("fmt, mimetype", [("json", "application/json"), ("fhir", "application/fhir+json"),
                                          ("pdf", "application/pdf")])
def test_format_overrides_the_header(client, fmt, mimetype):
    assert _post(client, {"Accept": "application/xml"}, format=fmt).mimetype == mimetype
    assert client.post(f"/?format={fmt}", data={"image": upload(PHANTOM), "pixel_size_mm": "0.2"},
                       headers={"Accept": "application/xml"}).mimetype == mimetype


@pytest.mark.parametrize("fmt", ["xml", "png"])
def test_unknown_format_is_406(client, fmt):
    assert error_of(_post(client, format=fmt))[:2] == (406, "not_acceptable")


@pytest.mark.parametrize("headers", [None, {"Accept": "*/*"}, JSON, {"Accept": "application/fhir+json"},
                                     {"Accept": "application/pdf"}])
def test_json_clients_never_get_the_csrf_page(client, headers):
    """A JSON client that sends a stale form token gets a JSON error, not the form page."""
    response = _post(client, headers, csrf_token="stale")
    assert error_of(response)[:2] == (400, "csrf_failed")


def test_browser_errors_are_pages(client):
    response = client.post("/", data={"image": upload(PHANTOM), "csrf_token": "stale"}, headers=BROWSER)
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_json_client_errors_are_json(client):
    assert error_of(client.post("/", data={}))[:2] == (400, "missing_image")
    assert error_of(client.get("/nowhere"))[:2] == (404, "not_found")
    assert client.get("/nowhere", headers=BROWSER).mimetype == "text/html"


@pytest.mark.parametrize("incoming, kept", [("abc-123", True), ("trace.id:42_x", True), ("a" * 64, True),
                                            ("a" * 65, False), ("bad id", False), ("x<script>", False),
                                            ("", False), ("é", False)])
def test_incoming_request_id_is_kept_only_when_plain(client, incoming, kept):
    response = client.get("/health", headers={"X-Request-ID": incoming})
    echoed = response.headers["X-Request-ID"]
    assert (echoed == incoming) is kept and len(echoed) <= 64


def test_errors_carry_the_request_id(client):
    response = client.post("/", data={}, headers={"X-Request-ID": "req-7"})
    assert response.get_json()["request_id"] == "req-7" == response.headers["X-Request-ID"]


def test_every_answer_has_provenance(client):
    body = _post(client).get_json()
    p = body["provenance"]
    assert p["app_version"] and "Ramanujan" in p["hc_method"] and "minor axis" in p["bpd_convention"]
    assert p["measured_at"].endswith("Z") and body["model"]["version"]


# --- CORS -------------------------------------------------------------------------------------

ORIGIN = "https://pacs.example.org"


@pytest.fixture(scope="module")
def cors_client(make_app):
    return make_app(cors_origins=(ORIGIN,)).test_client()


def _preflight(client, path, origin, method="POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "content-type, x-api-key, x-request-id"})


@pytest.mark.parametrize("path, method", [("/", "POST"), ("/batch", "POST"), ("/ellipse", "POST"), ("/csv", "POST"),
                                          ("/health", "GET"), ("/chart.svg", "GET"), ("/openapi.json", "GET")])
def test_preflight_from_a_listed_origin(cors_client, path, method):
    response = _preflight(cors_client, path, ORIGIN, method)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == method
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"content-type", "x-api-key", "x-request-id"}  # content-type: the JSON of /ellipse, /csv
    assert "Origin" in response.headers["Vary"] and "Access-Control-Allow-Credentials" not in response.headers


def test_listed_origin_can_read_the_answer(cors_client):
    response = cors_client.post("/", data={"image": upload(PHANTOM)}, headers={"Origin": ORIGIN})
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_listed_origin_can_read_the_json_routes_answers(cors_client):
    """POST /batch, /ellipse and /csv: a JSON client on another origin reads their answers too."""
    batch = cors_client.post("/batch", data={"images": [upload(PHANTOM)]}, headers={"Origin": ORIGIN, **JSON})
    edited = cors_client.post("/ellipse", headers={"Origin": ORIGIN, **JSON}, json={
        "ellipse": {"center_x_px": 100.0, "center_y_px": 100.0, "semi_major_px": 60.0, "semi_minor_px": 50.0,
                    "angle_deg": 0.0}, "image": {"width": 200, "height": 200}})
    table = cors_client.post("/csv", json=edited.get_json(), headers={"Origin": ORIGIN, **JSON})
    for response in (batch, edited, table):
        assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Content-Disposition" in table.headers["Access-Control-Expose-Headers"]


def test_listed_origin_can_read_the_growth_chart(cors_client):
    """GET /chart.svg: an application on another origin draws the chart of a result it holds."""
    response = cors_client.get("/chart.svg?hc_mm=172.5&ga_weeks=20&ga_days=3", headers={"Origin": ORIGIN})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("origin", ["https://evil.example", "http://pacs.example.org", "null"])
def test_other_origins_are_refused(cors_client, origin):
    for response in (_preflight(cors_client, "/", origin), cors_client.get("/health", headers={"Origin": origin})):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "Access-Control-Allow-Methods" not in response.headers


def test_pages_are_never_opened_to_other_origins(cors_client):
    response = cors_client.get("/model", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_cors_header_by_default(client):
    response = _preflight(client, "/", ORIGIN)
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("value", ["*", "https://x.org/path", "pacs.example.org", "https://a.org, ftp://b.org"])
def test_malformed_cors_origins_stop_start_up(value):
    from fetalhc.settings import ConfigError, Settings
    with pytest.raises(ConfigError, match="FETALHC_CORS_ORIGINS"):
        Settings.from_env({"FETALHC_CORS_ORIGINS": value})


def test_cors_origins_are_read_as_a_list():
    from fetalhc.settings import Settings
    assert Settings.from_env({"FETALHC_CORS_ORIGINS": "https://A.org, http://localhost:3000/"}).cors_origins == \
        ("https://a.org", "http://localhost:3000")
