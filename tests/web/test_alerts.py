"""Abnormal results stand out: below the 3rd centile, a GA far from the HC's, an implausible size,
a Poor verdict each carry an alert in the JSON and on the page; no centile for an implausible HC."""
from __future__ import annotations

from testkit.samples import BROWSER, JSON, hc18_reference, page_csrf_token, upload


def _answer(client, hc18, **fields):
    data, pixel_size_mm, _ = hc18_reference(hc18)  # 010_HC.png: HC about 72 mm (13 weeks by Hadlock)
    form = {"image": upload(data), "pixel_size_mm": str(pixel_size_mm), **fields}
    return client.post("/", data=form, headers=JSON).get_json()


def _codes(answer) -> set[str]:
    return {a["code"] for a in answer["alerts"]}


def test_a_small_head_for_the_entered_age_is_below_the_3rd_centile_and_mismatched(client, hc18):
    answer = _answer(client, hc18, ga_weeks="20")
    assert answer["centile"]["centile"] < 3
    assert {"below_3rd_centile", "ga_mismatch"} <= _codes(answer)
    assert all(a["reason"] for a in answer["alerts"])


def test_an_age_that_fits_raises_no_centile_or_age_alert(client, hc18):
    answer = _answer(client, hc18, ga_weeks="13")  # the HC's own Hadlock age; before the standard's 14 weeks
    assert not {"below_3rd_centile", "above_97th_centile", "ga_mismatch"} & _codes(answer)


def test_an_implausible_size_is_flagged_and_gets_no_centile(client, hc18):
    answer = _answer(client, hc18, pixel_size_mm="1.5", ga_weeks="30")  # about 1350 mm
    assert "implausible_size" in _codes(answer) and "poor_quality" in _codes(answer)
    assert answer["centile"]["centile"] is None and "not a plausible" in answer["centile"]["reason"]


def test_the_page_shows_each_alert_as_text(client, hc18):
    data, pixel_size_mm, _ = hc18_reference(hc18)
    form = {"image": upload(data), "pixel_size_mm": str(pixel_size_mm), "ga_weeks": "20",
            "csrf_token": page_csrf_token(client)}
    html = client.post("/", data=form, headers=BROWSER).get_data(as_text=True)
    assert 'data-code="below_3rd_centile"' in html and 'data-code="ga_mismatch"' in html
    assert "<strong>Alert:</strong>" in html  # a word, not colour alone
