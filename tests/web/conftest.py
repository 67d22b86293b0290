"""Web app fixtures: one app with the committed model for the whole session (TensorFlow loads once)."""
from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from fetalhc.settings import Settings
from fetalhc.web import create_app

# Explicit values, so a FETALHC_* variable set on the machine cannot change what is tested.
BASE_SETTINGS = Settings(secret_key="test-secret-key")


@pytest.fixture(scope="session")
def make_app(predictor):
    """``make_app(**changes)``: an app with the session's model and these settings changed."""
    def make(**changes):
        return create_app(dataclasses.replace(BASE_SETTINGS, **changes), predictor)
    return make


@pytest.fixture(scope="session")
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def app_without_model(tmp_path_factory):
    """An app whose model folder is empty: it starts, and answers 503 where the model is needed."""
    return create_app(dataclasses.replace(BASE_SETTINGS, model_dir=tmp_path_factory.mktemp("no_model")))



@pytest.fixture(autouse=True)
def no_request_reaches_the_last_resort_handler(caplog):
    """Every documented input has its own answer: the catch-all 500 handler must stay unused."""
    yield
    unhandled = [r.getMessage() for r in caplog.records if r.name == "fetalhc.web.errors"]
    assert not unhandled, unhandled


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def live_url(app):
    """The session's app on a loopback port, for the browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright; the browser tests skip where it is not installed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
