"""``model.onnx``: the ONNX copy of the SavedModel, and the digest that ties it to its source.

The digest of the SavedModel is written into the ONNX file's metadata at export and checked at
load, so a SavedModel replaced after the export (a new training run) is never served through
an ONNX file of the old one.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

ONNX_NAME = "model.onnx"
SOURCE_DIGEST_KEY = "fetalhc_savedmodel_sha256"


def savedmodel_digest(model_dir: Path) -> str:
    """SHA-256 over the SavedModel's graph and weights (``saved_model.pb`` and ``variables/``)."""
    digest = hashlib.sha256()
    files = [model_dir / "saved_model.pb", *sorted((model_dir / "variables").glob("*"))]
    for f in files:
        digest.update(f.relative_to(model_dir).as_posix().encode() + b"\0")
        digest.update(f.read_bytes())
    return digest.hexdigest()
