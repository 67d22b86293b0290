"""The PDF report of one measurement: one A4 page made with reportlab from the result record.

Every number is the record's own text (its headline, its summary rows, its alerts), so the PDF says
what the page and the JSON say. The growth chart is the layout of :mod:`fetalhc.report.chart`, drawn
with reportlab's graphics. Text is set in Bitstream Vera, which reportlab ships (the same glyphs on
every machine, embedded in the file); :func:`unprintable` says which characters of a label it lacks.
"""
from __future__ import annotations

import base64
import io
from datetime import datetime
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Group, Line, PolyLine, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fetalhc.record import MeasurementAnswer
from fetalhc.report.chart import GrowthChart, chart_for_record, marker_points

FONT, BOLD = "Vera", "Vera-Bold"
RESEARCH_USE = ("Research use only, not a medical device: not for diagnostic use. Every number must be "
                "checked by a qualified person.")
ELLIPSE_SOURCES = {"automatic": "automatic: the ellipse as the model fitted it",
                   "edited": "edited: the ellipse as the user adjusted it on the page"}
ALERT_MARKER = "ALERT"
_INK, _MUTED, _LINE, _ALERT = (colors.HexColor(c) for c in ("#1d2430", "#5b6576", "#d9dee7", "#8a1c1c"))
MARGIN = 14 * mm
CONTENT_WIDTH = A4[0] - 2 * MARGIN


@lru_cache(maxsize=1)
def _fonts() -> TTFont:
    regular = TTFont(FONT, "Vera.ttf")  # found in reportlab's own fonts folder
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
    return regular


def unprintable(text: str) -> str:
    """The characters of ``text`` the report's font has no glyph for, each once, in order."""
    glyphs = _fonts().face.charToGlyph
    return "".join(dict.fromkeys(c for c in text if ord(c) not in glyphs))


def file_name(record: MeasurementAnswer) -> str:
    """The download's name: the report and the time it was measured (UTC), never the upload's name."""
    return f"fetalhc-report-{record.provenance.measured_at:%Y%m%d-%H%M%S}Z.pdf"


def _when(measured_at: datetime) -> str:
    return f"{measured_at:%Y-%m-%d %H:%M:%S} UTC"


def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, textColor=_INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=_MUTED),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=15, leading=19),
        "headline": ParagraphStyle("headline", parent=base, fontName=BOLD, fontSize=17, leading=21),
        "notice": ParagraphStyle("notice", parent=base, fontName=BOLD, backColor=colors.HexColor("#fff6e0"),
                                 borderColor=colors.HexColor("#f0d58a"), borderWidth=0.6, borderPadding=4),
        "alert": ParagraphStyle("alert", parent=base, textColor=_ALERT, leading=12),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "note": ParagraphStyle("note", parent=base, fontSize=8, leading=10, textColor=_MUTED),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def chart_drawing(chart: GrowthChart, width: float) -> Drawing:
    """The chart's layout drawn with reportlab graphics, scaled to ``width`` points (y flipped: reportlab's
    y points up)."""
    _fonts()
    scale = width / chart.width
    group = Group(transform=(scale, 0, 0, scale, 0, 0))

    def flip(y: float) -> float:  # layout y (down) -> reportlab y (up)
        return chart.height - y

    left, top, right, bottom = chart.plot
    group.add(Rect(0, 0, chart.width, chart.height, fillColor=colors.white, strokeColor=None))
    for x, label in chart.x_ticks:
        group.add(Line(x, flip(top), x, flip(bottom + 5), strokeColor=_LINE, strokeWidth=0.8))
        group.add(String(x, flip(bottom + 20), label, fontName=FONT, fontSize=12, fillColor=_MUTED, textAnchor="middle"))
    for y, label in chart.y_ticks:
        group.add(Line(left - 5, flip(y), right, flip(y), strokeColor=_LINE, strokeWidth=0.8))
        group.add(String(left - 9, flip(y + 4), label, fontName=FONT, fontSize=12, fillColor=_MUTED, textAnchor="end"))
    group.add(String((left + right) / 2, flip(chart.height - 22), chart.x_label, fontName=FONT, fontSize=13,
                     fillColor=_INK, textAnchor="middle"))
    y_title = Group(String(0, 0, chart.y_label, fontName=FONT, fontSize=13, fillColor=_INK, textAnchor="middle"),
                    transform=(0, 1, -1, 0, 24, flip((top + bottom) / 2)))
    group.add(y_title)
    group.add(Rect(left, flip(bottom), right - left, bottom - top, fillColor=None, strokeColor=_MUTED, strokeWidth=0.8))
    for curve in chart.curves:
        group.add(PolyLine([v for x, y in curve.points for v in (x, flip(y))], strokeColor=colors.HexColor(curve.colour),
                           strokeWidth=curve.width, strokeDashArray=list(curve.dash) or None))
    legend, marker = chart.legend, chart.marker
    box_left, box_top, box_width, box_height = legend.box
    (x1, x2), mark_x = legend.sample_x, sum(legend.sample_x) / 2
    group.add(Rect(box_left, flip(box_top + box_height), box_width, box_height, fillColor=colors.white,
                   strokeColor=_LINE, strokeWidth=0.8))
    for y, curve in legend.rows:
        group.add(Line(x1, flip(y), x2, flip(y), strokeColor=colors.HexColor(curve.colour), strokeWidth=curve.width,
                       strokeDashArray=list(curve.dash) or None))
        group.add(String(legend.text_x, flip(y + 4), curve.label, fontName=FONT, fontSize=12, fillColor=_INK))
    group.add(Polygon([v for px, py in marker_points(marker, 5.5)
                       for v in (px - marker.x + mark_x, flip(py - marker.y + legend.mark_y))], fillColor=_INK,
                      strokeColor=colors.white, strokeWidth=1.5))
    group.add(String(legend.text_x, flip(legend.mark_y + 4), "This measurement", fontName=FONT, fontSize=12,
                     fillColor=_INK))
    group.add(Polygon([v for px, py in marker_points(marker) for v in (px, flip(py))], fillColor=_INK,
                      strokeColor=colors.white, strokeWidth=2))
    group.add(String(marker.label_x, flip(marker.label_y), marker.label, fontName=BOLD, fontSize=13, fillColor=_INK,
                     textAnchor=marker.label_anchor))
    drawing = Drawing(width, chart.height * scale)
    drawing.add(group)
    return drawing


def _measurement_table(record: MeasurementAnswer, styles: dict[str, ParagraphStyle]) -> Table:
    """The headline and the page's summary rows, with each length's method and convention beside it."""
    p = record.provenance
    notes = {"BPD": p.bpd_convention, "OFD": p.ofd_convention}
    rows = [[_p("Head circumference (HC)", styles["cell"]),
             _p(f"{record.circumference} {record.circumference_unit}", styles["cell"]),
             _p("Perimeter of the fitted ellipse (Ramanujan)", styles["note"])]]
    for row in record.summary:
        value_style = styles["note"] if row.note else styles["cell"]
        rows.append([_p(row.label, styles["cell"]), _p(row.value, value_style), _p(notes.get(row.label, ""), styles["note"])])
    table = Table(rows, colWidths=[42 * mm, 78 * mm, CONTENT_WIDTH - 120 * mm], repeatRows=0)
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, _LINE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5), ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _overlay(record: MeasurementAnswer, width: float, height: float) -> Image | None:
    if not record.overlay_png_base64:
        return None
    image = Image(io.BytesIO(base64.b64decode(record.overlay_png_base64)))
    ratio = min(width / image.imageWidth, height / image.imageHeight)
    image.drawWidth, image.drawHeight = image.imageWidth * ratio, image.imageHeight * ratio
    return image


def _no_chart_reason(record: MeasurementAnswer) -> str:
    """Why a record has no chart: its centile's reason, else what the chart needs."""
    if record.centile is not None and record.centile.reason:
        return record.centile.reason
    return "it needs the pixel size and a gestational age from 14+0 to 40+0 weeks."


def pdf_report(record: MeasurementAnswer, exam_label: str | None) -> bytes:
    """The report as PDF bytes; ``exam_label`` is printed as given (checked by the caller), else 'none given'."""
    s = _styles()
    story: list = [
        _p("Fetal head circumference report", s["title"]),
        Paragraph(f"<b>Exam label:</b> {escape(exam_label) if exam_label else '<i>none given</i>'}"
                  f" &nbsp; <b>Measured:</b> {_when(record.provenance.measured_at)}"
                  f" &nbsp; <b>Request id:</b> {escape(record.request_id)}", s["body"]),
        Spacer(0, 5),
        _p(RESEARCH_USE, s["notice"]),
        Spacer(0, 7),
    ]
    for alert in record.alerts:
        story.append(Paragraph(f"<b>(!) {ALERT_MARKER}:</b> {escape(alert.reason)}", s["alert"]))
    if record.alerts:
        story.append(Spacer(0, 4))
    story.append(_p(f"HC {record.circumference} {record.circumference_unit}", s["headline"]))
    if not record.calibrated:
        story.append(_p("Uncalibrated: the lengths are in pixels; send the pixel size (mm per pixel) for "
                        "millimetres, the gestational age and the centile.", s["alert"]))
    verdict = f"<b>Quality:</b> {escape(record.image_quality)}"
    if record.confidence is not None:  # an edited ellipse has none
        verdict += f" (confidence {record.confidence:.2f})"
    reasons = "; ".join(record.quality_flags)
    story.append(Paragraph(verdict + (f". Reasons: {escape(reasons)}" if reasons else ""), s["body"]))
    story.append(Paragraph(f"<b>Ellipse:</b> {escape(ELLIPSE_SOURCES[record.ellipse_source])}", s["body"]))
    story += [Spacer(0, 6), _measurement_table(record, s), Spacer(0, 8)]

    chart = chart_for_record(record.to_json())
    image_width = 0.44 * CONTENT_WIDTH
    overlay = _overlay(record, image_width, 70 * mm)
    figures = [overlay or _p("No overlay image in this answer.", s["note"]),
               chart_drawing(chart, CONTENT_WIDTH - image_width - 4 * mm) if chart is not None else
               _p("No growth chart: " + _no_chart_reason(record), s["note"])]
    captions = [_p("The image with the fitted ellipse (HC), the OFD and the BPD axes.", s["small"]),
                _p(f"INTERGROWTH-21st head circumference standard, 3rd to 97th centile ({chart.source})."
                   if chart is not None else "", s["small"])]
    grid = Table([figures, captions], colWidths=[image_width + 4 * mm, CONTENT_WIDTH - image_width - 4 * mm])
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [grid, Spacer(0, 8)]
    story.append(_p(f"Model {record.model.name} {record.model.version}; fetalhc {record.provenance.app_version}. "
                    f"{record.provenance.hc_method}", s["small"]))
    story.append(_p(RESEARCH_USE, s["small"]))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=MARGIN, title="Fetal head circumference report", author="fetalhc",
                                 subject=RESEARCH_USE, creator=f"fetalhc {record.provenance.app_version}")
    document.build(story)
    return buffer.getvalue()
