"""Measurement of the fetal head from a segmentation probability map.

The names below load on first use (PEP 562), so that importing one light module such as
``geometry`` (training does, on machines without the image decoders) does not pull in
``biometry`` and, through it, the DICOM reader.
"""
from __future__ import annotations

import importlib

_HOMES = {"Biometry": "biometry", "measure_head": "biometry", "NoHeadFoundError": "contour",
          "Ellipse": "geometry", "fit_ellipse": "geometry", "ramanujan_perimeter": "geometry"}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
