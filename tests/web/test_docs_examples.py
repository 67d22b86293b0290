"""The answers printed in the README and the API and batch guides are what the app answers today.

The README and the API guide show ``POST /`` for HC18's ``training_set/010_HC.png``, the batch
guide ``POST /batch`` for it and a zip; a new model or a change of the record would leave them
stale without this test. Every value an excerpt prints is compared, except those that differ
from one request to the next.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from testkit.samples import JSON, black_png, upload
from testkit.zips import zip_of

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = [ROOT / "README.md", ROOT / "docs" / "api.md"]
BATCH_GUIDE = ROOT / "docs" / "batch.md"
# Different for every request, or measured on another machine.
PER_REQUEST = {"request_id", "processing_time", "processing_time_ms", "measured_at"}
ELIDED = "..."
# The form of every documented curl.
FORM = {"pixel_size_mm": "0.0799", "ga_weeks": "13"}


def _documented_answer(doc: Path, curl: str) -> dict:
    """The first JSON block after ``curl`` in ``doc``."""
    text = doc.read_text()
    block = re.search(r"```json\n(.*?)```", text[text.index(curl):], re.DOTALL)
    assert block, f"{doc.name}: no JSON answer after {curl!r}"
    return json.loads(block.group(1))


def _differences(documented, served, path: str = "") -> list[str]:
    """Where ``served`` does not say what ``documented`` prints; elided parts match anything."""
    if isinstance(documented, dict):
        if not isinstance(served, dict):
            return [f"{path}: documented an object, served {served!r}"]
        found = []
        for key, value in documented.items():
            if key == ELIDED or key in PER_REQUEST:
                continue
            if key not in served:
                found.append(f"{path}.{key}: documented, not served")
            else:
                found += _differences(value, served[key], f"{path}.{key}")
        return found
    if isinstance(documented, list):
        if not isinstance(served, list):
            return [f"{path}: documented a list, served {served!r}"]
        kept = [d for d in documented if d != ELIDED]  # the doc shows the first items only
        return [d for i, value in enumerate(kept) for d in _differences(value, served[i], f"{path}[{i}]")]
    if isinstance(documented, str) and documented.endswith(ELIDED):  # a text cut short in the doc
        stem = documented[:-len(ELIDED)].rstrip()
        return [] if isinstance(served, str) and served.startswith(stem) else [f"{path}: {documented!r} vs {served!r}"]
    return [] if documented == served else [f"{path}: documented {documented!r}, served {served!r}"]


@pytest.fixture(scope="module")
def served(app, hc18):
    image = (hc18 / "training_set" / "010_HC.png").read_bytes()
    response = app.test_client().post("/", data={"image": upload(image, "010_HC.png"), **FORM}, headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("doc", DOCUMENTED, ids=lambda p: p.name)
def test_the_documented_answer_is_served(doc, served):
    documented = _documented_answer(doc, "-F image=@training_set/010_HC.png")
    assert len(documented) > 10  # the excerpt was found, not an empty block
    assert _differences(documented, served) == []


def test_the_documented_batch_answer_is_served(app, hc18):
    """The zip the batch guide describes: 010_2HC.png, then a black 800x540 frame."""
    images = hc18 / "training_set"
    exam = zip_of({"010_2HC.png": (images / "010_2HC.png").read_bytes(), "blank.png": black_png(800, 540)})
    response = app.test_client().post("/batch", data={
        "images": [upload((images / "010_HC.png").read_bytes(), "010_HC.png"), upload(exam, "exam.zip")], **FORM},
        headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    documented = _documented_answer(BATCH_GUIDE, "-F images=@training_set/010_HC.png -F images=@exam.zip")
    assert len(documented["results"]) == 3
    assert _differences(documented, response.get_json()) == []
