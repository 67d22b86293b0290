"""How far to trust one HC: a split-conformal interval scaled by a measured per-image spread,
and a verdict that follows it.

The spread of one answer is ``sqrt(floor**2 + (HC * d)**2)``: ``d`` is how far the two stages'
HC disagree (relative), ``floor`` the spread every answer has even when they agree. On the
calibration subjects the scores ``|HC - reference| / spread`` are ranked and their conformal
quantile ``q`` taken (Vovk et al. 2005; Lei et al., JASA 113:1094, 2018): then
``HC +/- q * spread`` holds the reference HC with probability at least ``level`` for a new
image from the same population.

The floor is in millimetres: on the validation subjects that choose and calibrate, the error
hardly grows with the head's size (1.4 to 1.7 mm on average in each third of head size, for both
stage-2 networks measured; docs/trust.md), so an interval proportional to the HC is too narrow for small heads and too wide for
large ones. Its value is chosen by cross-validation by subject (:func:`choose_floor`). Without a
pixel size there are no millimetres; the pixel interval then uses a floor proportional to the
HC, calibrated on the same images.

The verdict's thresholds on the disagreement are fixed on other subjects (the selection part),
so that the verdict is not tuned on what is reported.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from fetalhc.measurement.biometry import Biometry
from fetalhc.measurement.quality import QualitySignals

UNCERTAINTY_NAME = "uncertainty.json"
# The floor of the pixel interval (answers without a pixel size), a share of the HC fixed before
# calibration: about the relative error of HC18's best methods (1.8 mm at 180 mm).
RELATIVE_FLOOR = 0.01
# The millimetre floors cross-validation chooses among.
FLOOR_CANDIDATES_MM = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
# Floors whose intervals are this close to the narrowest count as as good: the smallest of them is
# taken, so that the measured disagreement keeps as much say in the width as the data allow.
FLOOR_WIDTH_TOLERANCE = 0.01
# Random halves of the subjects the cross-validation of the floor draws.
FLOOR_DRAWS = 200
# The confidence is the calibrated probability that the HC is within this share of an expert's.
CONFIDENCE_TOLERANCE = 0.02


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n + 1) * level)-th smallest score: split-conformal coverage of at least ``level``."""
    scores = np.sort(np.asarray(scores, dtype=float))
    k = math.ceil((len(scores) + 1) * level)
    if k > len(scores):
        raise ValueError(f"{len(scores)} calibration scores cannot give a {level:.0%} interval; need at least "
                         f"{math.ceil(level / (1 - level) - 1e-9)}")
    return float(scores[k - 1])


def spreads(hc: np.ndarray, disagreement: np.ndarray, floor: float, relative: bool) -> np.ndarray:
    """``sqrt(floor**2 + (hc * d)**2)``, the floor a share of ``hc`` when ``relative``."""
    hc = np.asarray(hc, dtype=float)
    return np.hypot(floor * hc if relative else floor, hc * np.asarray(disagreement, dtype=float))


@dataclass(frozen=True)
class Scale:
    """One calibrated interval: in millimetres (``relative`` False) or in any unit (the floor a share
    of the HC, for answers without a pixel size)."""

    floor: float
    relative: bool
    quantile: float              # conformal quantile of the calibration scores
    scores: tuple[float, ...]    # the calibration scores, sorted (for the confidence)

    @classmethod
    def fit(cls, hc: np.ndarray, reference: np.ndarray, disagreement: np.ndarray, floor: float, relative: bool,
            level: float) -> "Scale":
        scores = np.abs(np.asarray(hc) - np.asarray(reference)) / spreads(hc, disagreement, floor, relative)
        return cls(floor, relative, conformal_quantile(scores, level), tuple(float(s) for s in np.sort(scores)))

    def half_width(self, hc: float, disagreement: float) -> float:
        return self.quantile * float(spreads(hc, disagreement, self.floor, self.relative))

    def confidence(self, hc: float, disagreement: float) -> float:
        """Calibrated probability that ``hc`` is within :data:`CONFIDENCE_TOLERANCE` of the reference."""
        limit = CONFIDENCE_TOLERANCE * hc / float(spreads(hc, disagreement, self.floor, self.relative))
        return float(np.searchsorted(self.scores, limit, side="right") / (len(self.scores) + 1))


def choose_floor(hc_mm: np.ndarray, reference_mm: np.ndarray, disagreement: np.ndarray, subjects: np.ndarray,
                 level: float, candidates: tuple[float, ...] = FLOOR_CANDIDATES_MM, draws: int = FLOOR_DRAWS,
                 seed: int = 0) -> tuple[float, dict[float, float]]:
    """The millimetre floor whose intervals are narrowest on held-out subjects (the smallest within
    :data:`FLOOR_WIDTH_TOLERANCE` of the narrowest), and each candidate's mean width: ``draws`` times,
    half the subjects calibrate and the other half measure the width (every candidate on the same
    halves). Conformal calibration gives each candidate about the same coverage, so the narrowest
    interval is the one whose spread follows the errors best."""
    hc_mm, reference_mm, disagreement = (np.asarray(a, dtype=float) for a in (hc_mm, reference_mm, disagreement))
    subjects = np.asarray(subjects)
    unique = np.unique(subjects)
    rng = np.random.default_rng(seed)
    halves = [np.isin(subjects, rng.choice(unique, len(unique) // 2, replace=False)) for _ in range(draws)]
    widths = {}
    for floor in candidates:
        spread = spreads(hc_mm, disagreement, floor, relative=False)
        widths[floor] = float(np.mean([
            2 * Scale.fit(hc_mm[cal], reference_mm[cal], disagreement[cal], floor, False, level).quantile
            * spread[~cal].mean() for cal in halves]))
    narrowest = min(widths.values())
    return min(f for f, w in widths.items() if w <= narrowest * (1 + FLOOR_WIDTH_TOLERANCE)), widths


@dataclass(frozen=True)
class Uncertainty:
    """The calibrated interval model of a two-stage network, stored beside it as ``uncertainty.json``."""

    level: float                 # coverage of the interval, e.g. 0.9
    mm: Scale                    # answers with a pixel size
    px: Scale                    # answers without one: the floor a share of the HC
    fair_above: float            # stage disagreement above which the verdict is at best Fair
    poor_above: float            # stage disagreement above which it is Poor
    provenance: dict = field(default_factory=dict)  # which images fixed each number, and how

    def save(self, folder: Path) -> Path:
        path = Path(folder) / UNCERTAINTY_NAME
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> "Uncertainty | None":
        path = Path(folder) / UNCERTAINTY_NAME
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        if "mm" not in data:
            raise ValueError(f"{path} is of an older format (one interval proportional to the HC): delete it and run "
                             f"python -m fetalhc.evaluation.calibrate --model {Path(folder)}")
        scales = {name: Scale(**{**data[name], "scores": tuple(data[name]["scores"])}) for name in ("mm", "px")}
        return cls(**{**data, **scales})


def calibrate(hc_mm: np.ndarray, reference_mm: np.ndarray, disagreement: np.ndarray,
              selection_disagreement: np.ndarray, floor_mm: float, level: float = 0.9,
              flagged_share: float = 0.2, provenance: dict | None = None) -> Uncertainty:
    """Fit both intervals on calibration images (``hc_mm``, ``reference_mm``, ``disagreement``) and the
    verdict's thresholds on selection images: the ``flagged_share`` with the largest disagreement are
    at best Fair, the largest quarter of those Poor."""
    return Uncertainty(level=level,
                       mm=Scale.fit(hc_mm, reference_mm, disagreement, floor_mm, False, level),
                       px=Scale.fit(hc_mm, reference_mm, disagreement, RELATIVE_FLOOR, True, level),
                       fair_above=float(np.quantile(selection_disagreement, 1 - flagged_share)),
                       poor_above=float(np.quantile(selection_disagreement, 1 - flagged_share / 4)),
                       provenance=provenance or {})


@dataclass(frozen=True)
class Trust:
    """How far to trust one answer: its interval, the confidence, and a verdict with its reasons."""

    interval_px: tuple[float, float] | None
    interval_mm: tuple[float, float] | None   # only when calibrated
    level: float | None
    confidence: float | None                 # None for an ellipse placed by hand
    verdict: str                             # "Good", "Fair" or "Poor"
    reasons: tuple[str, ...]


# The fit's own flags that make an answer Poor, and those that make it at best Fair.
POOR_FLAGS = ("implausible_size", "clipped", "elongated")
FAIR_FLAGS = ("not_elliptical",)


def _plausibility(quality: QualitySignals) -> tuple[list[str], list[str]]:
    """(reasons that make an answer Poor, reasons that make it at best Fair) from the fit itself."""
    def raised(kinds: tuple[str, ...]) -> list[str]:
        return [flag for kind in kinds if (flag := quality.flag(kind)) is not None]
    return raised(POOR_FLAGS), raised(FAIR_FLAGS)


def _around(value: float, half: float) -> tuple[float, float]:
    return max(value - half, 0.0), value + half


def judge(biometry: Biometry, disagreement: float | None, refined: bool, uncertainty: Uncertainty | None,
          at_core: bool = False) -> Trust:
    """The trust of one measurement. Without a calibrated second stage, the segmentation's own
    signals decide (no interval). ``at_core``: stage 2 found the head only around the surest part
    of its map (a region that had run into a neighbouring structure), which makes it Poor."""
    quality = biometry.quality
    if uncertainty is None or disagreement is None:
        return Trust(None, None, None, quality.confidence, quality.verdict, quality.flags)
    poor, fair = _plausibility(quality)
    apart = f"the two stages disagree on the HC by {disagreement:.1%}"
    if at_core:
        poor.append("the head was found only where the network is surest, after its region ran into a neighbouring "
                    "structure; check the outline")
    if not refined:
        poor.append("the fine stage found no head where the coarse stage did; the outline is coarse")
    elif disagreement > uncertainty.poor_above:
        poor.append(apart)
    elif disagreement > uncertainty.fair_above:
        fair.append(apart)
    hc_px, hc_mm = biometry.hc_px, biometry.hc_mm
    if hc_mm is None:
        interval_mm = None
        interval_px = _around(hc_px, uncertainty.px.half_width(hc_px, disagreement))
        confidence = uncertainty.px.confidence(hc_px, disagreement)
    else:  # one interval, in millimetres, also drawn in pixels
        half_mm = uncertainty.mm.half_width(hc_mm, disagreement)
        interval_mm = _around(hc_mm, half_mm)
        interval_px = _around(hc_px, half_mm * hc_px / hc_mm)
        confidence = uncertainty.mm.confidence(hc_mm, disagreement)
    return Trust(interval_px, interval_mm, uncertainty.level, confidence * (0.5 if poor else 1.0),
                 "Poor" if poor else "Fair" if fair else "Good", tuple(poor + fair))


def judge_placed(biometry: Biometry) -> Trust:
    """The trust of an ellipse placed by hand: no interval and no confidence (both are calibrated on
    the model's own fits), and the verdict of the checks that need no map (``assess_placed``)."""
    quality = biometry.quality
    return Trust(None, None, None, None, quality.verdict, quality.flags)
