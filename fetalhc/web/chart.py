"""``GET /chart.svg``: the growth chart for one HC and gestational age, as the page shows it inline.

It decodes no image and measures nothing (the numbers come from a result the client already has), so
neither the model nor the upload limits are involved.
"""
from __future__ import annotations

from flask import Blueprint, Response, request
from markupsafe import Markup

from fetalhc.clinical.intergrowth import GA_MAX_WEEKS, GA_MIN_WEEKS
from fetalhc.numbers import parse_number
from fetalhc.report.chart import ChartError, chart_for_record, growth_chart
from fetalhc.report.svg import chart_svg
from fetalhc.web.api_error import ApiError
from fetalhc.web.ellipse_request import gestational_age

bp = Blueprint("chart", __name__)


def _number(name: str, rule: str, kind: type = float) -> float | None:
    raw = request.args.get(name, "").strip()
    try:
        return parse_number(raw, kind)
    except ValueError:
        shown = raw if len(raw) <= 20 else raw[:20] + "..."
        raise ApiError(400, "invalid_field", f"The parameter '{name}' must be {rule}; got {shown!r}.") from None


@bp.get("/chart.svg")
def chart():
    hc_mm = _number("hc_mm", "the head circumference in mm")
    weeks = _number("ga_weeks", "the gestational age in weeks")
    days = _number("ga_days", "a whole number of days from 0 to 6", int)
    if hc_mm is None or weeks is None:
        raise ApiError(400, "invalid_field", "The chart needs 'hc_mm' (the head circumference in mm) and "
                                             "'ga_weeks' (the gestational age in weeks, 'ga_days' optional), "
                                             "e.g. /chart.svg?hc_mm=172.5&ga_weeks=20&ga_days=3.")
    if days is not None and not 0 <= days <= 6:
        raise ApiError(400, "invalid_field", f"The parameter 'ga_days' must be a whole number of days from 0 "
                                             f"to 6; got {days}.")
    try:
        drawn = growth_chart(hc_mm, gestational_age(weeks, days))
    except ChartError as exc:
        raise ApiError(400, "invalid_field", str(exc)) from None
    return Response(chart_svg(drawn), mimetype="image/svg+xml")


@bp.app_template_global()
def growth_chart_svg(result: dict) -> Markup | None:
    """For the page without JavaScript: the chart of a result, inline, when the result has one."""
    drawn = chart_for_record(result)
    return None if drawn is None else Markup(chart_svg(drawn))


@bp.app_template_global()
def growth_chart_weeks() -> tuple[float, float]:
    """The span of the standard, for the page to offer a chart only at an age inside it."""
    return GA_MIN_WEEKS, GA_MAX_WEEKS
