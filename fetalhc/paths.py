"""Where the HC18 data and the project's generated data live.

Data paths come from the command line, else the ``HC18_DIR`` environment variable, else
``../shared/hc18`` beside the project root when it exists (nnU-Net style: paths from the
environment, with a clear error when missing).
"""
from __future__ import annotations

import os
from pathlib import Path

from fetalhc.settings import DEFAULT_MODEL_DIR, PROJECT_ROOT, Settings

DATASET_DIR = PROJECT_ROOT / "dataset"
__all__ = ["DATASET_DIR", "DEFAULT_MODEL_DIR", "PROJECT_ROOT", "DataNotFoundError", "hc18_dir"]


class DataNotFoundError(FileNotFoundError):
    """The HC18 data (or a file derived from it) is not where it was looked for."""


def hc18_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Resolve the HC18 folder: argument, then ``HC18_DIR``, then ``../shared/hc18``, then ``dataset/``."""
    from_env = Settings.from_env().hc18_dir
    if explicit:
        candidates = [Path(explicit)]
    elif from_env:
        candidates = [from_env]
    else:
        candidates = [PROJECT_ROOT.parent / "shared" / "hc18", DATASET_DIR]
    for path in candidates:
        if (path / "training_set_pixel_size_and_HC.csv").is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise DataNotFoundError(
        f"HC18 data not found (looked in: {tried}). Download HC18 from "
        "https://doi.org/10.5281/zenodo.1327317 and pass its folder with --hc18-dir "
        "or set HC18_DIR; it must contain training_set_pixel_size_and_HC.csv and training_set/."
    )
