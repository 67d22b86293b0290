"""The growth chart: the INTERGROWTH-21st head circumference standard's 3rd, 10th, 50th, 90th and 97th
centiles from 14 to 40 weeks, with one measurement marked, laid out once in drawing units.

The curves come from :func:`fetalhc.clinical.intergrowth.hc_at_centile` (Papageorghiou et al., Lancet
2014); nothing here computes a centile. The layout is in units with y pointing down (as SVG):
:mod:`fetalhc.report.svg` writes it for the page and :mod:`fetalhc.report.pdf` draws the same layout
with reportlab, so the page and the PDF show one chart.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fetalhc.clinical.hadlock import format_weeks_days
from fetalhc.clinical.intergrowth import GA_MAX_WEEKS, GA_MIN_WEEKS, GROWTH_SOURCE, hc_at_centile
from fetalhc.numbers import fixed

WIDTH, HEIGHT = 640.0, 440.0
# The plot area inside the drawing; the margins hold the tick labels and the axis titles.
LEFT, TOP, RIGHT, BOTTOM = 72.0, 20.0, 624.0, 376.0
HC_MIN_MM, HC_MAX_MM, HC_TICK_MM = 50.0, 400.0, 50.0
GA_TICK_WEEKS = 2.0
# Curves are sampled every quarter week: straight segments that far apart stay within 0.01 mm of the
# smooth curve, and every whole week (where the published tables are) is a sample.
STEP_WEEKS = 0.25

TITLE = "Head circumference on the INTERGROWTH-21st fetal growth standard"
X_LABEL = "Gestational age (weeks)"
Y_LABEL = "Head circumference (mm)"
# About the width of one character of the measurement's label (13-unit bold sans-serif).
LABEL_CHAR_WIDTH = 7.6


@dataclass(frozen=True)
class Curve:
    centile: int
    label: str  # "3rd centile"
    colour: str
    width: float
    dash: tuple[float, ...]  # empty: solid; the dash tells the curves apart without colour
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    hc_mm: float
    ga_weeks: float
    off_chart: str | None  # "above" or "below" when the HC lies outside the drawn range
    label: str
    label_x: float
    label_y: float
    label_anchor: str  # "start", "middle" or "end"


@dataclass(frozen=True)
class Legend:
    """A box in the plot's top-left corner (where the curves never pass): one row per curve, highest
    centile first, then the measurement's mark. Each row: a sample at ``sample_x``, its text at ``text_x``."""

    box: tuple[float, float, float, float]  # left, top, width, height
    rows: tuple[tuple[float, Curve], ...]  # (y of the row's middle, curve)
    mark_y: float
    sample_x: tuple[float, float]
    text_x: float


@dataclass(frozen=True)
class GrowthChart:
    marker: Marker
    curves: tuple[Curve, ...]
    legend: Legend
    x_ticks: tuple[tuple[float, str], ...]  # (x, label)
    y_ticks: tuple[tuple[float, str], ...]  # (y, label)
    description: str
    width: float = WIDTH
    height: float = HEIGHT
    plot: tuple[float, float, float, float] = (LEFT, TOP, RIGHT, BOTTOM)
    title: str = TITLE
    x_label: str = X_LABEL
    y_label: str = Y_LABEL
    source: str = GROWTH_SOURCE


class ChartError(ValueError):
    """No chart for these values; the message says why."""


# (centile, label, colour, width, dash), drawn in this order, the median last (on top).
_STYLES = (
    (3, "3rd centile", "#8a1c1c", 1.5, (2.0, 3.0)),
    (97, "97th centile", "#8a1c1c", 1.5, (2.0, 3.0)),
    (10, "10th centile", "#5b6576", 1.5, (8.0, 4.0)),
    (90, "90th centile", "#5b6576", 1.5, (8.0, 4.0)),
    (50, "50th centile", "#0b5cad", 2.5, ()),
)


def x_of(ga_weeks: float) -> float:
    return LEFT + (ga_weeks - GA_MIN_WEEKS) / (GA_MAX_WEEKS - GA_MIN_WEEKS) * (RIGHT - LEFT)


def y_of(hc_mm: float) -> float:
    return BOTTOM - (hc_mm - HC_MIN_MM) / (HC_MAX_MM - HC_MIN_MM) * (BOTTOM - TOP)


def _ticks(low: float, high: float, step: float, position) -> tuple[tuple[float, str], ...]:
    count = int(round((high - low) / step))
    return tuple((round(position(low + i * step), 2), f"{low + i * step:g}") for i in range(count + 1))


def _curve(centile: int, label: str, colour: str, width: float, dash: tuple[float, ...]) -> Curve:
    count = int(round((GA_MAX_WEEKS - GA_MIN_WEEKS) / STEP_WEEKS))
    weeks = [GA_MIN_WEEKS + i * STEP_WEEKS for i in range(count + 1)]
    points = tuple((round(x_of(ga), 2), round(y_of(hc_at_centile(ga, centile)), 2)) for ga in weeks)
    return Curve(centile, label, colour, width, dash, points)


def _marker(hc_mm: float, ga_weeks: float) -> Marker:
    x, y = x_of(ga_weeks), y_of(hc_mm)
    off_chart = "above" if hc_mm > HC_MAX_MM else "below" if hc_mm < HC_MIN_MM else None
    y = min(max(y, TOP), BOTTOM)
    label = f"HC {fixed(hc_mm)} mm at {format_weeks_days(ga_weeks)}"
    if off_chart:
        label += f", {off_chart} the chart"
    # The label sits beside the mark on whichever side has room (its width estimated from the
    # characters at the label's 13-unit font), below the mark at the top edge, above it elsewhere.
    width = LABEL_CHAR_WIDTH * len(label)
    if x + 12 + width <= RIGHT:
        label_x, anchor = x + 12, "start"
    elif x - 12 - width >= LEFT:
        label_x, anchor = x - 12, "end"
    else:
        label_x, anchor = min(max(x, LEFT + width / 2), RIGHT - width / 2), "middle"
    label_y = y + 24 if y < TOP + 30 else y - 12
    return Marker(round(x, 2), round(y, 2), hc_mm, ga_weeks, off_chart, label,
                  round(label_x, 2), round(label_y, 2), anchor)


def marker_points(marker: Marker, size: float = 7.0) -> list[tuple[float, float]]:
    """The mark's outline: a diamond, or a triangle pointing off the chart."""
    x, y = marker.x, marker.y
    if marker.off_chart == "above":
        return [(x, y - size), (x + size, y + size), (x - size, y + size)]
    if marker.off_chart == "below":
        return [(x, y + size), (x + size, y - size), (x - size, y - size)]
    return [(x, y - size), (x + size, y), (x, y + size), (x - size, y)]


def _legend(curves: tuple[Curve, ...]) -> Legend:
    left, top, row = LEFT + 10, TOP + 10, 18.0
    ordered = sorted(curves, key=lambda c: -c.centile)
    rows = tuple((top + 14 + row * i, curve) for i, curve in enumerate(ordered))
    return Legend(box=(left, top, 186.0, row * (len(ordered) + 1) + 8), rows=rows,
                  mark_y=top + 14 + row * len(ordered), sample_x=(left + 8, left + 40), text_x=left + 48)


def growth_chart(hc_mm: float, ga_weeks: float) -> GrowthChart:
    """The chart with this HC (mm) marked at this gestational age (decimal weeks, 14 to 40)."""
    if not (math.isfinite(hc_mm) and hc_mm > 0):
        raise ChartError("The head circumference must be a positive number of millimetres.")
    if not (math.isfinite(ga_weeks) and GA_MIN_WEEKS <= ga_weeks <= GA_MAX_WEEKS):
        raise ChartError("The INTERGROWTH-21st head circumference standard spans 14+0 to 40+0 weeks; "
                         "give a gestational age in that span.")
    marker = _marker(hc_mm, ga_weeks)
    centiles = ", ".join(style[1].split()[0] for style in sorted(_STYLES))
    description = (f"The {centiles} centiles of the INTERGROWTH-21st fetal head circumference standard "
                   f"({GROWTH_SOURCE}) from 14 to 40 weeks, head circumference in mm against gestational age "
                   f"in weeks. Marked: this measurement, {marker.label}.")
    curves = tuple(_curve(*style) for style in _STYLES)
    return GrowthChart(
        marker=marker,
        curves=curves,
        legend=_legend(curves),
        x_ticks=_ticks(GA_MIN_WEEKS, GA_MAX_WEEKS, GA_TICK_WEEKS, x_of),
        y_ticks=_ticks(HC_MIN_MM, HC_MAX_MM, HC_TICK_MM, y_of),
        description=description,
    )


def chart_for_record(record: dict[str, Any]) -> GrowthChart | None:
    """The chart of a result record (its JSON form): only where the record places its HC on the standard
    (a z-score: an HC in mm, a gestational age from 14 to 40 weeks, a size the plausibility check and
    Hadlock accept); else None, and the record's centile reason says why."""
    centile = record.get("centile")
    if centile is None or centile["z"] is None or record.get("circumference_mm") is None:
        return None
    return growth_chart(record["circumference_mm"], centile["ga_weeks"])
