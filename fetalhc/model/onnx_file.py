"""``model.onnx``: the ONNX copy of the SavedModel, and the digest that ties it to its source.

The digest of the SavedModel is written into the ONNX file's metadata at export and checked at
load, so a SavedModel replaced after the export (a new training run) is never served through
an ONNX file of the old one. Both ONNX runtimes (OpenVINO and ONNX Runtime) read this one file.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from fetalhc.model.errors import ModelLoadError

ONNX_NAME = "model.onnx"
SOURCE_DIGEST_KEY = "fetalhc_savedmodel_sha256"
EXPORT_HINT = "python -m fetalhc.model.onnx_export --model {dir}"


def savedmodel_digest(model_dir: Path) -> str:
    """SHA-256 over the SavedModel's graph and weights (``saved_model.pb`` and ``variables/``)."""
    digest = hashlib.sha256()
    files = [model_dir / "saved_model.pb", *sorted((model_dir / "variables").glob("*"))]
    for f in files:
        digest.update(f.relative_to(model_dir).as_posix().encode() + b"\0")
        digest.update(f.read_bytes())
    return digest.hexdigest()


def onnx_path(model_dir: Path) -> Path:
    """``model_dir/model.onnx``, checked to exist."""
    path = model_dir / ONNX_NAME
    if not path.is_file():
        raise ModelLoadError(f"no {ONNX_NAME} in {model_dir}; export it with `{EXPORT_HINT.format(dir=model_dir)}` "
                             "or serve the SavedModel with FETALHC_RUNTIME=tensorflow")
    return path


def check_exported_from(path: Path, exported_from: str | None) -> None:
    """Refuse ``path`` when a SavedModel beside it is not the one it was exported from.

    ``exported_from`` is the digest the runtime read from the file's metadata. The serving image
    ships ``model.onnx`` without the SavedModel: there is nothing to compare.
    """
    model_dir = path.parent
    if (model_dir / "saved_model.pb").is_file() and exported_from != savedmodel_digest(model_dir):
        raise ModelLoadError(f"{path} was not exported from the SavedModel beside it (it is stale); "
                             f"export it again with `{EXPORT_HINT.format(dir=model_dir)}`")


def damaged_onnx_error(path: Path, exc: Exception) -> ModelLoadError:
    """The error of a runtime that cannot read ``path``."""
    hint = EXPORT_HINT.format(dir=path.parent)
    detail = " ".join(str(exc).split())[:200]  # OpenVINO's messages span several lines
    return ModelLoadError(f"{path} could not be loaded ({type(exc).__name__}: {detail}); "
                          f"it is damaged or incomplete, export it again with `{hint}`")
