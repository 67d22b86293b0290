"""The Dockerfile as data, so tests can run what the image runs (CI has no Docker engine)."""
from __future__ import annotations

import json
import re

from fetalhc.paths import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) in order, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            result.append((keyword.upper(), args.strip()))
    return result


def arguments(keyword: str) -> list[str]:
    return [args for kw, args in instructions() if kw == keyword]


def start_command() -> list[str]:
    """The image's CMD (exec form)."""
    (cmd,) = arguments("CMD")
    return json.loads(cmd)
