"""The result record as one flat CSV row: the page's "Result CSV" (``POST /csv``), the table of
``POST /batch`` and the command-line batch CSV (``fetalhc.inference.batch``) all use this form.

Nested keys are joined with dots (``automatic.circumference_mm``), an interval is two columns
(``_low`` and ``_high``), alerts are their codes and other lists their items, joined with '; ';
the page's ``summary`` rows are left out (the values themselves are there). Every value is as
the JSON answer writes it (a time in ISO 8601, a boolean ``true`` or ``false``), so a cell never
differs from the JSON, and the page's batch CSV (``static/batch.js``) spells its ``included``
column the same way.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter

from fetalhc.record import AlertRecord, MeasurementRecord

# Presentation-only keys that a flat table leaves out.
_NOT_IN_CSV = {"summary"}
_DATETIME = TypeAdapter(datetime)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if getattr(annotation, "__origin__", None) is list:  # a list of records stays one column
        return None
    for t in getattr(annotation, "__args__", (annotation,)):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _is_pair(annotation: Any) -> bool:
    return any(getattr(t, "__origin__", None) is tuple for t in getattr(annotation, "__args__", (annotation,)))


def _flatten(record: BaseModel | None, model: type[BaseModel], prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    for name, info in model.model_fields.items():
        if name in _NOT_IN_CSV:
            continue
        key = f"{prefix}.{name}" if prefix else name
        value = None if record is None else getattr(record, name)
        nested = _nested_model(info.annotation)
        if nested is not None:
            _flatten(value, nested, key, out)
        elif _is_pair(info.annotation):  # an interval: one column per bound
            out[f"{key}_low"], out[f"{key}_high"] = value if value is not None else (None, None)
        elif isinstance(value, list):  # alerts by their codes
            out[key] = "; ".join(item.code if isinstance(item, AlertRecord) else str(item) for item in value)
        elif isinstance(value, datetime):  # as the JSON writes it, not as str() or Flask would
            out[key] = _DATETIME.dump_python(value, mode="json")
        elif isinstance(value, bool):  # as the JSON writes it, not as str() would (True)
            out[key] = "true" if value else "false"
        else:
            out[key] = value
    return out


def flat_row(record: MeasurementRecord) -> dict[str, Any]:
    """The record as one CSV row: nested keys joined with dots, an interval as ``_low`` and ``_high``
    columns, lists joined with '; '."""
    return _flatten(record, MeasurementRecord, "", {})


def csv_columns() -> list[str]:
    """The columns of :func:`flat_row`, derived from the record's fields."""
    return list(_flatten(None, MeasurementRecord, "", {}))


def csv_text(record: MeasurementRecord) -> str:
    """The record as a CSV file: the header of :func:`csv_columns` and its one row (an empty cell for
    null, as the command-line batch CSV writes it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_columns())
    writer.writerow(flat_row(record).values())
    return out.getvalue()
