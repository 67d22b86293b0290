"""The growth chart as drawn: its centile curves, read back from the SVG's coordinates through its own
axis ticks, are the published INTERGROWTH-21st head circumference standard."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from statistics import NormalDist

import pytest

from fetalhc.report.chart import ChartError, chart_for_record, growth_chart
from fetalhc.report.svg import chart_svg

SVG = "{http://www.w3.org/2000/svg}"

# The INTERGROWTH-21st fetal HC standard as published (Papageorghiou et al., Lancet 2014; the project's
# z-score table grow_fetal-zs_hc_table, mm, as extracted in github.com/Yannngn/intergrowth-fetal-growth-csv,
# the same table tests/test_clinical.py checks the formula against): (-2 SD, 0 SD, +2 SD) by week.
PUBLISHED = {14: (86.7, 97.9, 109.0), 20: (157.6, 172.5, 187.4), 28: (242.5, 260.4, 278.2),
             36: (297.9, 319.4, 340.9), 40: (308.1, 333.9, 359.8)}
# HC is normal at each week (the standard's centiles are mean + z SD), so the 3rd and 97th centiles are
# the median -/+ 1.881 of the published SD; the table's 0.1 mm rounding moves them by under 0.1 mm.
Z97 = NormalDist().inv_cdf(0.97)


def published_centiles(week: int) -> dict[int, float]:
    minus2, median, plus2 = PUBLISHED[week]
    sd = (plus2 - minus2) / 4
    return {3: median - Z97 * sd, 50: median, 97: median + Z97 * sd}


def _axis(root: ET.Element, name: str, coordinate: str):
    """value -> drawing coordinate and back, fitted to the axis's drawn ticks and their labels."""
    ticks = [(float(g.find(f"{SVG}line").get(coordinate)), float(g.find(f"{SVG}text").text))
             for g in root.find(f"{SVG}g[@class='{name}']").findall(f"{SVG}g[@class='tick']")]
    assert len(ticks) >= 5
    (p0, v0), (p1, v1) = ticks[0], ticks[-1]
    scale = (p1 - p0) / (v1 - v0)
    for p, v in ticks:  # the axis is linear: every tick sits where the two end ticks put it
        assert p == pytest.approx(p0 + (v - v0) * scale, abs=0.01)
    return (lambda v: p0 + (v - v0) * scale), (lambda p: v0 + (p - p0) / scale)


def _read_curve(points: list[tuple[float, float]], x: float) -> float:
    """The curve's y at x, interpolated between its drawn points."""
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    raise AssertionError(f"the curve does not reach x={x}")


@pytest.fixture(scope="module")
def drawn():
    return ET.fromstring(chart_svg(growth_chart(172.47, 20 + 3 / 7)))


@pytest.mark.parametrize("week", sorted(PUBLISHED))
@pytest.mark.parametrize("centile", [3, 50, 97])
def test_drawn_curves_match_the_published_standard(drawn, week, centile):
    x_of, _ = _axis(drawn, "x-axis", "x1")
    _, mm_of = _axis(drawn, "y-axis", "y1")
    curve = drawn.find(f".//{SVG}polyline[@data-centile='{centile}']")
    points = [tuple(map(float, p.split(","))) for p in curve.get("points").split()]
    read_mm = mm_of(_read_curve(points, x_of(week)))
    assert read_mm == pytest.approx(published_centiles(week)[centile], abs=0.5)


def test_the_chart_has_five_curves_a_legend_and_the_measurement(drawn):
    assert sorted(int(c.get("data-centile")) for c in drawn.iter(f"{SVG}polyline")) == [3, 10, 50, 90, 97]
    texts = " ".join(t.text or "" for t in drawn.iter(f"{SVG}text"))
    for words in ("Gestational age (weeks)", "Head circumference (mm)", "3rd centile", "97th centile",
                  "This measurement", "HC 172.47 mm at 20w 3d"):
        assert words in texts
    assert drawn.get("role") == "img" and drawn.find(f"{SVG}title").text.startswith("Head circumference")
    assert "HC 172.47 mm at 20w 3d" in drawn.find(f"{SVG}desc").text


def test_the_mark_sits_at_the_measurement(drawn):
    x_of, _ = _axis(drawn, "x-axis", "x1")
    y_of, _ = _axis(drawn, "y-axis", "y1")
    mark = drawn.find(f".//{SVG}g[@class='measurement']/{SVG}polygon")
    corners = [tuple(map(float, p.split(","))) for p in mark.get("points").split()]
    assert len(corners) == 4  # a diamond: a shape, not a colour
    centre_x = sum(x for x, _ in corners) / 4
    centre_y = sum(y for _, y in corners) / 4
    assert centre_x == pytest.approx(x_of(20 + 3 / 7), abs=0.05)
    assert centre_y == pytest.approx(y_of(172.47), abs=0.05)


def test_an_hc_beyond_the_axis_is_marked_at_the_edge_and_says_so():
    root = ET.fromstring(chart_svg(growth_chart(586.0, 26)))
    mark = root.find(f".//{SVG}g[@class='measurement']")
    assert len(mark.find(f"{SVG}polygon").get("points").split()) == 3  # a triangle pointing off the chart
    assert "HC 586.00 mm at 26w 0d, above the chart" in mark.find(f"{SVG}text").text


@pytest.mark.parametrize("hc, ga, fragment", [(0.0, 20, "positive"), (float("nan"), 20, "positive"),
                                              (150.0, 13.9, "14+0 to 40+0"), (150.0, 40.2, "14+0 to 40+0")])
def test_no_chart_outside_the_standard(hc, ga, fragment):
    with pytest.raises(ChartError, match=re.escape(fragment)):
        growth_chart(hc, ga)


def test_a_record_has_a_chart_only_where_it_has_a_centile():
    placed = {"ga_weeks": 20.43, "z": -1.2}
    assert chart_for_record({"circumference_mm": 172.47, "centile": placed}).marker.ga_weeks == 20.43
    assert chart_for_record({"circumference_mm": None, "centile": None}) is None
    refused = {"ga_weeks": 13.0, "z": None, "reason": "Gestational age 13.0 weeks is before 14+0 weeks"}
    assert chart_for_record({"circumference_mm": 72.2, "centile": refused}) is None
