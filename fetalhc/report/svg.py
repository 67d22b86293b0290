"""The growth chart as an SVG document that the page shows inline.

Accessible without colour: a title and description for screen readers, axis titles with units, a
legend, each centile drawn with its own dash pattern, the measurement as a diamond (a triangle at the
edge when it lies off the chart) with a text label. Presentation attributes only, no ``style``: the
page's Content-Security-Policy allows no inline styles.
"""
from __future__ import annotations

from html import escape

from fetalhc.report.chart import GrowthChart, marker_points

FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
INK, MUTED, GRID, MARK = "#1d2430", "#5b6576", "#e3e7ee", "#1d2430"


def _attrs(**values) -> str:
    return " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items())


def _dash(dash: tuple[float, ...]) -> str:
    return " ".join(f"{d:g}" for d in dash) if dash else "none"


def _text(x: float, y: float, content: str, **extra) -> str:
    return f"<text {_attrs(x=f'{x:g}', y=f'{y:g}', **extra)}>{escape(content)}</text>"


def _legend(chart: GrowthChart) -> list[str]:
    legend, marker = chart.legend, chart.marker
    left, top, width, height = legend.box
    (x1, x2), mark_x = legend.sample_x, sum(legend.sample_x) / 2
    parts = ['<g class="legend" aria-hidden="true">',
             f"<rect {_attrs(x=left, y=top, width=width, height=height, fill='#ffffff', stroke=GRID)}/>"]
    for y, curve in legend.rows:
        parts.append(f"<line {_attrs(x1=x1, y1=y, x2=x2, y2=y, stroke=curve.colour, stroke_width=curve.width, stroke_dasharray=_dash(curve.dash))}/>")
        parts.append(_text(legend.text_x, y + 4, curve.label, font_size=12, fill=INK))
    points = " ".join(f"{px - marker.x + mark_x:g},{py - marker.y + legend.mark_y:g}"
                      for px, py in marker_points(marker, 5.5))
    parts.append(f"<polygon {_attrs(points=points, fill=MARK, stroke='#ffffff', stroke_width=1.5)}/>")
    parts.append(_text(legend.text_x, legend.mark_y + 4, "This measurement", font_size=12, fill=INK))
    parts.append("</g>")
    return parts


def chart_svg(chart: GrowthChart) -> str:
    """The chart as one ``<svg>`` element, ready to be inlined in HTML or served as image/svg+xml."""
    left, top, right, bottom = chart.plot
    w, h = chart.width, chart.height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(viewBox=f"0 0 {w:g} {h:g}", width=f"{w:g}", height=f"{h:g}")} '
           f'role="img" aria-labelledby="growth-chart-title growth-chart-desc" class="growth-chart-svg" '
           f'{_attrs(font_family=FONT)}>',
           f'<title id="growth-chart-title">{escape(chart.title)}</title>',
           f'<desc id="growth-chart-desc">{escape(chart.description)}</desc>',
           f"<rect {_attrs(x=0, y=0, width=f'{w:g}', height=f'{h:g}', fill='#ffffff')}/>"]
    out.append('<g class="x-axis">')
    for x, label in chart.x_ticks:
        out.append(f'<g class="tick" data-value="{escape(label)}">'
                   f"<line {_attrs(x1=x, y1=top, x2=x, y2=bottom + 5, stroke=GRID)}/>"
                   f"{_text(x, bottom + 20, label, font_size=12, fill=MUTED, text_anchor='middle')}</g>")
    out.append(_text((left + right) / 2, h - 22, chart.x_label, font_size=13, fill=INK, text_anchor="middle",
                     class_="axis-title"))
    out.append("</g>")
    out.append('<g class="y-axis">')
    for y, label in chart.y_ticks:
        out.append(f'<g class="tick" data-value="{escape(label)}">'
                   f"<line {_attrs(x1=left - 5, y1=y, x2=right, y2=y, stroke=GRID)}/>"
                   f"{_text(left - 9, y + 4, label, font_size=12, fill=MUTED, text_anchor='end')}</g>")
    cy = (top + bottom) / 2
    out.append(_text(20, cy, chart.y_label, font_size=13, fill=INK, text_anchor="middle",
                     transform=f"rotate(-90 20 {cy:g})", class_="axis-title"))
    out.append("</g>")
    out.append(f"<rect {_attrs(x=left, y=top, width=f'{right - left:g}', height=f'{bottom - top:g}', fill='none', stroke=MUTED)}/>")
    out.append('<g class="curves">')
    for curve in chart.curves:
        points = " ".join(f"{x:g},{y:g}" for x, y in curve.points)
        out.append(f'<polyline class="centile" data-centile="{curve.centile}" '
                   f"{_attrs(points=points, fill='none', stroke=curve.colour, stroke_width=curve.width, stroke_dasharray=_dash(curve.dash))}>"
                   f"<title>{escape(curve.label)}</title></polyline>")
    out.append("</g>")
    out += _legend(chart)
    m = chart.marker
    points = " ".join(f"{x:g},{y:g}" for x, y in marker_points(m))
    out.append(f'<g class="measurement" data-hc-mm="{m.hc_mm:g}" data-ga-weeks="{m.ga_weeks:g}">'
               f"<polygon {_attrs(points=points, fill=MARK, stroke='#ffffff', stroke_width=2)}/>"
               f"{_text(m.label_x, m.label_y, m.label, font_size=13, font_weight='600', fill=INK, text_anchor=m.label_anchor, stroke='#ffffff', stroke_width=4, paint_order='stroke')}"
               "</g>")
    out.append("</svg>")
    return "\n".join(out)
