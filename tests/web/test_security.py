"""Security headers, API key, CSRF rules, rate limit, configuration and the last-resort handler."""
from __future__ import annotations

import ast
import logging
import os
import runpy
from unittest import mock

import pytest

from fetalhc.paths import PROJECT_ROOT
from fetalhc.web import create_app
from fetalhc.settings import ConfigError, Settings
from testkit.samples import BROWSER, JSON, PATIENT_NAME, black_png, page_csrf_token, upload

KEY = "s3cret-key"


@pytest.mark.parametrize("method, path, kwargs", [
    ("get", "/", {}), ("get", "/health", {}), ("get", "/openapi.json", {}), ("get", "/model", {}),
    ("get", "/static/app.js", {}), ("get", "/nowhere", {}), ("post", "/", {"headers": JSON}),
    ("post", "/", {"headers": JSON, "data": {"image": upload(black_png())}}),
])
def test_security_headers_on_every_response(client, method, path, kwargs):
    response = getattr(client, method)(path, **kwargs)
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["X-Request-ID"]
    if path.startswith("/static/"):
        assert "no-store" not in h.get("Cache-Control", "")
    else:
        assert h["Cache-Control"] == "no-store"


def test_json_api_sets_no_cookie(client):
    response = client.post("/", data={"image": upload(black_png())}, headers=JSON)
    assert "Set-Cookie" not in response.headers


def test_session_cookie_is_strict(client):
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.fixture(scope="module")
def keyed_app(make_app):
    return make_app(api_key=KEY)


@pytest.fixture(scope="module")
def keyed(keyed_app):
    return keyed_app.test_client()


@pytest.fixture
def keyed_page(keyed_app):
    """A browser of its own (its own session cookie) on the keyed app."""
    return keyed_app.test_client()


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY[:-1]}])
def test_api_key_is_required_when_set(keyed, headers):
    response = keyed.post("/", data={"image": upload(black_png())}, headers={**JSON, **headers})
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert "X-API-Key" in response.get_json()["message"]


def test_right_api_key_is_accepted(keyed):
    response = keyed.post("/", data={"image": upload(black_png())}, headers={**JSON, "X-API-Key": KEY})
    assert response.status_code == 422


def test_csrf_token_is_no_substitute_for_the_key(keyed_page):
    """Anyone can load the page and read its token: without the key it measures nothing."""
    assert "api_key" in keyed_page.get("/").get_data(as_text=True)  # the page asks for the key
    token = page_csrf_token(keyed_page)
    form = keyed_page.post("/", data={"image": upload(black_png()), "csrf_token": token}, headers=BROWSER)
    assert form.status_code == 401 and form.mimetype == "text/html"
    assert "no fetal head" not in form.get_data(as_text=True).lower() and "api_key" in form.get_data(as_text=True)
    for headers in ({**JSON, "X-CSRFToken": token}, {**JSON, "X-CSRFToken": token, "X-API-Key": "wrong"}):
        script = keyed_page.post("/", data={"image": upload(black_png())}, headers=headers)
        assert script.status_code == 401 and script.get_json()["error"] == "unauthorized"
    in_form = keyed_page.post("/", data={"image": upload(black_png()), "csrf_token": token, "format": "json"})
    assert in_form.status_code == 401


def test_page_asks_for_the_key_once_and_then_measures(keyed_page):
    token = page_csrf_token(keyed_page)
    wrong = keyed_page.post("/key", data={"api_key": "wrong", "csrf_token": token}, headers=BROWSER)
    assert wrong.status_code == 401 and "not the server" in wrong.get_data(as_text=True)
    assert keyed_page.post("/key", data={"api_key": KEY}).status_code == 400  # the key form needs CSRF too
    given = keyed_page.post("/key", data={"api_key": KEY, "csrf_token": token})
    assert given.status_code == 303 and KEY not in given.headers["Set-Cookie"]
    page = keyed_page.get("/").get_data(as_text=True)
    assert 'id="measure-form"' in page
    token = page_csrf_token(keyed_page)
    form = keyed_page.post("/", data={"image": upload(black_png()), "csrf_token": token}, headers=BROWSER)
    assert form.status_code == 422 and form.mimetype == "text/html"
    script = keyed_page.post("/", data={"image": upload(black_png())}, headers={**JSON, "X-CSRFToken": token})
    assert script.status_code == 422 and script.get_json()["error"] == "no_head_found"
    # The session counts for CSRF-checked browser posts only, never for a token-less JSON call.
    bare = keyed_page.post("/", data={"image": upload(black_png())}, headers=JSON)
    assert bare.status_code == 401


def test_session_of_an_old_key_is_not_accepted(make_app):
    old = make_app(api_key=KEY).test_client()
    old.post("/key", data={"api_key": KEY, "csrf_token": page_csrf_token(old)})
    new = make_app(api_key="another-key").test_client()
    new.set_cookie("session", old.get_cookie("session").value)
    assert 'id="measure-form"' not in new.get("/").get_data(as_text=True)


def test_keys_are_compared_in_constant_time():
    source = (PROJECT_ROOT / "fetalhc" / "web" / "security.py").read_text()
    assert "compare_digest" in source and "== key" not in source and "key ==" not in source


def test_read_only_routes_need_no_api_key(keyed):
    for path in ("/health", "/openapi.json", "/model", "/"):
        assert keyed.get(path).status_code == 200


def test_rate_limit_answers_429(make_app):
    client = make_app(rate_limit="2/minute").test_client()
    statuses = [client.post("/", data={"image": upload(black_png())}, headers=JSON).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    response = client.post("/", data={"image": upload(black_png())}, headers=JSON)
    assert response.get_json()["error"] == "rate_limited" and "Retry-After" in response.headers
    assert all(client.get("/health").status_code == 200 for _ in range(5))  # only uploads count


def test_rate_limit_counts_each_client_behind_the_proxy(make_app):
    client = make_app(rate_limit="1/minute", proxy_count=1).test_client()
    for address in ("203.0.113.1", "203.0.113.2"):
        response = client.post("/", data={"image": upload(black_png())},
                               headers={**JSON, "X-Forwarded-For": address, "X-Forwarded-Proto": "https"})
        assert response.status_code == 422
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    again = client.post("/", data={"image": upload(black_png())}, headers={**JSON, "X-Forwarded-For": "203.0.113.1"})
    assert again.status_code == 429


def test_malformed_rate_limit_stops_start_up(make_app):
    with pytest.raises(ConfigError, match="FETALHC_RATE_LIMIT"):
        make_app(rate_limit="sixty a minute")


def test_settings_from_environment():
    settings = Settings.from_env({"FETALHC_MAX_UPLOAD_MB": "5", "FETALHC_MAX_PIXELS": "1000000",
                                  "FETALHC_API_KEY": "k", "FETALHC_RATE_LIMIT": "60/minute",
                                  "FETALHC_MODEL_DIR": "/models/x", "FETALHC_SECRET_KEY": "s",
                                  "FETALHC_PROXY_COUNT": "1", "FETALHC_DEBUG": "1"})
    assert (settings.max_upload_bytes, settings.max_pixels, settings.api_key, settings.rate_limit,
            str(settings.model_dir), settings.secret_key, settings.proxy_count) == \
        (5 * 1024 * 1024, 1_000_000, "k", "60/minute", "/models/x", "s", 1)
    defaults = Settings.from_env({})
    assert defaults.max_upload_bytes == 32 * 1024 * 1024 and defaults.api_key is None
    assert str(defaults.model_dir).endswith("Trained_models/dag_vnet") and len(defaults.secret_key) == 64
    assert Settings.from_env({}).secret_key != defaults.secret_key


@pytest.mark.parametrize("name, value", [("FETALHC_MAX_UPLOAD_MB", "lots"), ("FETALHC_MAX_UPLOAD_MB", "0"),
                                         ("FETALHC_MAX_PIXELS", "-5"), ("FETALHC_PROXY_COUNT", "one")])
def test_bad_settings_stop_start_up(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_debug_cannot_be_switched_on(predictor, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("FETALHC_DEBUG", "1")
    assert create_app(Settings.from_env(), predictor).debug is False


def test_entry_points_never_debug():
    tree = ast.parse((PROJECT_ROOT / "app.py").read_text())
    debug_args = [kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                  for kw in node.keywords if kw.arg == "debug"]
    assert debug_args and all(isinstance(v, ast.Constant) and v.value is False for v in debug_args)
    with mock.patch.dict(os.environ):  # the file sets FETALHC_SECRET_KEY for its workers
        settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    assert "reload" not in settings and settings["loglevel"] != "debug"


def test_unexpected_failure_is_a_json_500_logged_without_data(client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError(f"decoder failed on {PATIENT_NAME}")

    monkeypatch.setattr("fetalhc.web.api.answer_upload", explode)
    with caplog.at_level(logging.INFO):
        response = client.post("/", data={"image": upload(black_png())}, headers=JSON)
    body = response.get_json()
    assert response.status_code == 500 and body["error"] == "internal_error"
    assert response.headers["X-Request-ID"] in body["message"]
    (record,) = [r for r in caplog.records if r.name == "fetalhc.web.errors"]
    assert "RuntimeError" in record.getMessage() and response.headers["X-Request-ID"] in record.getMessage()
    assert PATIENT_NAME not in caplog.text
    caplog.clear()  # the check that no other test reaches this handler looks at the log
