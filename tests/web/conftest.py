"""Web app fixtures: one app with the committed model for the whole session (TensorFlow loads once)."""
from __future__ import annotations

import dataclasses

import pytest

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
