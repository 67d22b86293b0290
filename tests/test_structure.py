"""The shape of the code: packages that depend one way, one reader of the environment, small modules."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fetalhc.settings import DOCUMENTED, PROJECT_ROOT, Settings

SOURCE_DIRS = ("fetalhc", "datadaprocess", "scripts", "bench", "tests", "testkit")
MAX_LINES = 400


def python_files(*dirs: str) -> list[Path]:
    return [p for d in dirs for p in sorted((PROJECT_ROOT / d).rglob("*.py"))]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_fetalhc_imports_nothing_from_the_layers_above_it():
    above = ("datadaprocess", "scripts", "bench", "tests", "testkit")
    offenders = {str(p.relative_to(PROJECT_ROOT)): sorted(m for m in imported_modules(p) if m.split(".")[0] in above)
                 for p in python_files("fetalhc")}
    assert not {k: v for k, v in offenders.items() if v}


def test_nothing_edits_the_import_path():
    def edits_path(path: Path) -> bool:
        return any(isinstance(node, ast.Attribute) and node.attr in ("insert", "append", "extend")
                   and isinstance(node.value, ast.Attribute) and node.value.attr == "path"
                   and isinstance(node.value.value, ast.Name) and node.value.value.id == "sys"
                   for node in ast.walk(ast.parse(path.read_text())))
    assert [str(p.relative_to(PROJECT_ROOT)) for p in python_files(*SOURCE_DIRS) if edits_path(p)] == []


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for p in python_files("fetalhc", "datadaprocess", "scripts", "bench") + [PROJECT_ROOT / "app.py",
                                                                          PROJECT_ROOT / "gunicorn.conf.py"]:
        text = p.read_text()
        if p.name != "settings.py" and ("os.environ.get(" in text or "os.getenv(" in text or "os.environ[" in text):
            readers.append(str(p.relative_to(PROJECT_ROOT)))
    assert readers == []


def test_no_module_is_over_the_size_limit():
    long = {str(p.relative_to(PROJECT_ROOT)): n for p in python_files(*SOURCE_DIRS)
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def _docs_table() -> list[tuple[str, str, str]]:
    rows = []
    for line in (PROJECT_ROOT / "docs" / "configuration.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows.append((cells[0].strip("`"), cells[1].strip("`"), cells[2]))
    return rows


def test_the_configuration_page_lists_every_variable_the_settings_read():
    assert _docs_table() == [(v.name, v.default.strip("`"), v.meaning) for v in DOCUMENTED]


# A usable value of each variable, different from its default.
_VALUES = {"PORT": "9000", "HOST": "0.0.0.0", "FETALHC_MODEL_DIR": "/models/x", "FETALHC_RUNTIME": "onnx",
           "FETALHC_THREADS": "1", "FETALHC_MAX_UPLOAD_MB": "5", "FETALHC_MAX_PIXELS": "1000000",
           "FETALHC_DECODE_MEMORY_MB": "400", "FETALHC_DECODE_TIMEOUT_S": "10",
           "FETALHC_BATCH_MAX_IMAGES": "5", "FETALHC_BATCH_MAX_MB": "10", "FETALHC_ZIP_MAX_ENTRIES": "10",
           "FETALHC_ZIP_MAX_MB": "10", "FETALHC_ZIP_MAX_RATIO": "20",
           "FETALHC_API_KEY": "k", "FETALHC_RATE_LIMIT": "1/minute",
           "FETALHC_ELLIPSE_RATE_LIMIT": "5/second", "FETALHC_PROXY_COUNT": "1",
           "FETALHC_CORS_ORIGINS": "https://pacs.example.org",
           "FETALHC_SECRET_KEY": "s", "GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "4", "GUNICORN_TIMEOUT": "30",
           "HC18_DIR": "/data/hc18"}


@pytest.mark.parametrize("variable", [v.name for v in DOCUMENTED])
def test_every_documented_variable_changes_a_setting(variable):
    fixed = {"FETALHC_SECRET_KEY": "fixed"} if variable != "FETALHC_SECRET_KEY" else {}
    assert Settings.from_env({**fixed, variable: _VALUES[variable]}) != Settings.from_env(fixed)
