"""The Docker image as described by its Dockerfile: installs requirements-serve.txt, runs gunicorn as a user."""
from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
import sys
from importlib import metadata
from unittest import mock

from packaging.requirements import Requirement

from fetalhc.paths import PROJECT_ROOT
from testkit.dockerfile import arguments, instructions, start_command
from testkit.samples import black_png

REQUIREMENTS = PROJECT_ROOT / "requirements-serve.txt"
ENTRY_POINT = ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]


def serve_requirements() -> list[Requirement]:
    lines = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    return [Requirement(line) for line in lines if line]


def test_image_starts_the_tested_entry_point():
    assert instructions()[0] == ("FROM", "python:3.11-slim")
    assert start_command() == ENTRY_POINT
    assert "8080" in arguments("EXPOSE") and any("PORT=8080" in env for env in arguments("ENV"))
    (healthcheck,) = arguments("HEALTHCHECK")
    assert "/health" in healthcheck


def test_image_installs_requirements_serve_only():
    runs = arguments("RUN")
    installs = [r for r in runs if "pip install" in r]
    assert installs == ["pip install --no-cache-dir -r requirements-serve.txt"]
    assert "requirements-serve.txt ." in arguments("COPY")


def test_image_runs_as_an_unprivileged_user():
    (user,) = arguments("USER")
    assert user not in ("root", "0")
    keywords = [kw for kw, _ in instructions()]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw in ("RUN", "COPY"))


def test_everything_the_image_copies_exists():
    for args in arguments("COPY"):
        *sources, _ = args.split()
        for source in sources:
            assert (PROJECT_ROOT / source).exists(), source


def test_this_environment_has_the_pinned_serving_versions():
    """The tests run the versions the image installs."""
    for req in serve_requirements():
        (pin,) = req.specifier
        assert pin.operator == "==", f"{req.name} must be pinned"
        assert metadata.version(req.name) == pin.version, req.name


def _closure(names: set[str]) -> set[str]:
    """Distributions in ``names`` and everything they require (this platform, no extras)."""
    seen: set[str] = set()
    todo = [n.lower().replace("_", "-") for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name.lower().replace("_", "-"))
    return seen


# Run in a fresh interpreter where every installed package outside requirements-serve.txt
# fails to import, as in the image: the app must start and measure.
_SERVE_WITH_ONLY = """
import importlib.abc, io, json, sys
blocked = set(json.loads(sys.argv[1]))

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is not in requirements-serve.txt")

sys.meta_path.insert(0, Blocker())
from app import app
client = app.test_client()
blank = open(sys.argv[2], "rb").read()
measured = client.post("/", data={"image": (io.BytesIO(blank), "x.png")}, headers={"Accept": "application/json"})
health = client.get("/health")
answers = [health.status_code, health.get_json()["model"]["runtime"], measured.status_code]
print(json.dumps(answers))
"""


def test_the_app_serves_with_only_the_serving_requirements(tmp_path):
    allowed = _closure({r.name for r in serve_requirements()}) | {"fetalhc"}
    blocked = sorted({module for module, dists in metadata.packages_distributions().items()
                      if not any(d.lower().replace("_", "-") in allowed for d in dists)})
    assert "tensorflow" in blocked or "tensorflow" not in metadata.packages_distributions()
    blank = tmp_path / "blank.png"
    blank.write_bytes(black_png())
    env = {k: v for k, v in os.environ.items() if not k.startswith("FETALHC_")}
    done = subprocess.run([sys.executable, "-c", _SERVE_WITH_ONLY, json.dumps(blocked), str(blank)], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [200, "openvino", 422]


def test_gunicorn_settings_come_from_the_environment():
    conf = str(PROJECT_ROOT / "gunicorn.conf.py")
    with mock.patch.dict(os.environ, clear=True):
        defaults = runpy.run_path(conf)
        assert os.environ["FETALHC_SECRET_KEY"]  # one key shared by the workers
    assert (defaults["bind"], defaults["workers"], defaults["threads"]) == ("0.0.0.0:8080", 2, 4)
    env = {"PORT": "9000", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "2", "GUNICORN_TIMEOUT": "30",
           "FETALHC_SECRET_KEY": "fixed"}
    with mock.patch.dict(os.environ, env, clear=True):
        custom = runpy.run_path(conf)
        assert os.environ["FETALHC_SECRET_KEY"] == "fixed"
    assert (custom["bind"], custom["workers"], custom["threads"], custom["timeout"]) == ("0.0.0.0:9000", 3, 2, 30)
    assert custom.get("preload_app") is not True


def test_dockerignore_keeps_data_out_of_the_image():
    patterns = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert patterns[patterns.index("*")] == "*"
    assert not any(re.search(r"dataset|runs|\.venv", p) for p in patterns if p.startswith("!"))
