"""The one rounding of a reported number, for every answer the project gives."""
from __future__ import annotations

import math
import re

# Plain decimal notation only: no digit separators ("0_0"), other scripts' digits, hex, nan or inf.
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def rounded(value: float | None, digits: int = 2) -> float | None:
    """``value`` rounded to ``digits``; None stays None, and NaN or infinity (not valid JSON) become None."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


# The decimals of every length the project reports (HC, BPD, OFD, their interval; mm and pixels).
LENGTH_DIGITS = 2
# The decimals of the fitted ellipse's centre, semi-axes and angle. More than a length's: a client
# sends the automatic ellipse back with an edited one (POST /ellipse), and the lengths measured
# again from it must round to the digits first reported. At two decimals of a pixel the HC could
# move by a few thousandths of a millimetre and show one hundredth more or less.
GEOMETRY_DIGITS = 4


def fixed(value: float, digits: int = LENGTH_DIGITS) -> str:
    """``value`` as text with exactly ``digits`` decimals: the digits of ``rounded(value, digits)``.

    Every text that shows a reported number (page rows, overlay label, alerts) goes through here
    with the number's own digits, so no value is shown rounded one way and sent rounded another.
    """
    return f"{rounded(value, digits):.{digits}f}"


def parse_number(raw: str, kind: type = float) -> float | int | None:
    """A number typed by a person or set in the environment: None when empty, else ``kind`` of it.

    Raises ``ValueError`` for anything but a finite number in ASCII digits (Python's ``float`` and
    ``int`` would also take other scripts' digits, ``nan`` and ``inf``).
    """
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isascii():
        raise ValueError(f"{raw!r} is not written in ASCII digits")
    if not (_INT if kind is int else _FLOAT).fullmatch(raw):
        raise ValueError(f"{raw!r} is not a number in plain ASCII digits")
    value = kind(raw)
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value
