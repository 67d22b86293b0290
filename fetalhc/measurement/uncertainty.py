"""How far to trust one HC: a split-conformal interval scaled by a measured per-image spread,
and a verdict that follows it.

The spread of one answer is ``sqrt(floor**2 + d**2)``: ``d`` is how far the two stages' HC
disagree (relative), ``floor`` the spread every answer has even when they agree. On the
calibration subjects the scores ``|HC - reference| / (HC * spread)`` are ranked and their
conformal quantile ``q`` taken (Vovk et al. 2005; Lei et al., JASA 113:1094, 2018): then
``HC +/- q * HC * spread`` holds the reference HC with probability at least ``level`` for a new
image from the same population. Widths grow with head size, as the errors do.

The verdict's thresholds on the spread are fixed on other subjects (the selection part), so
that the verdict predicts the error without being tuned on what is reported.
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
# Chosen before calibration: about the relative error of HC18's best methods (1.8 mm at 180 mm).
DEFAULT_FLOOR = 0.01
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


@dataclass(frozen=True)
class Uncertainty:
    """The calibrated interval model of a two-stage network, stored beside it as ``uncertainty.json``."""

    level: float                 # coverage of the interval, e.g. 0.9
    floor: float                 # spread of an answer whose stages agree
    quantile: float              # conformal quantile of the calibration scores
    scores: tuple[float, ...]    # the calibration scores, sorted (for the confidence)
    fair_above: float            # spread above which the verdict is at best Fair
    poor_above: float            # spread above which it is Poor
    provenance: dict = field(default_factory=dict)  # which images fixed each number, and how

    @staticmethod
    def spread(disagreement: float, floor: float) -> float:
        return math.hypot(floor, disagreement)

    def half_width(self, hc: float, disagreement: float) -> float:
        """Half the interval around ``hc`` (same unit), for the stages' relative disagreement."""
        return self.quantile * hc * self.spread(disagreement, self.floor)

    def confidence(self, disagreement: float) -> float:
        """Calibrated probability that the HC is within :data:`CONFIDENCE_TOLERANCE` of the reference."""
        limit = CONFIDENCE_TOLERANCE / self.spread(disagreement, self.floor)
        return float(np.searchsorted(self.scores, limit, side="right") / (len(self.scores) + 1))

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
        return cls(**{**data, "scores": tuple(data["scores"])})


def calibrate(hc: np.ndarray, reference: np.ndarray, disagreement: np.ndarray, selection_disagreement: np.ndarray,
              level: float = 0.9, floor: float = DEFAULT_FLOOR, flagged_share: float = 0.2,
              provenance: dict | None = None) -> Uncertainty:
    """Fit the interval on calibration images (``hc``, ``reference``, ``disagreement``) and the verdict's
    thresholds on selection images: the ``flagged_share`` with the largest spread are at best Fair, the
    largest quarter of those Poor."""
    spread = np.hypot(floor, np.asarray(disagreement, dtype=float))
    scores = np.abs(np.asarray(hc) - np.asarray(reference)) / (np.asarray(hc) * spread)
    selection_spread = np.hypot(floor, np.asarray(selection_disagreement, dtype=float))
    return Uncertainty(level=level, floor=floor, quantile=conformal_quantile(scores, level),
                       scores=tuple(float(s) for s in np.sort(scores)),
                       fair_above=float(np.quantile(selection_spread, 1 - flagged_share)),
                       poor_above=float(np.quantile(selection_spread, 1 - flagged_share / 4)),
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


def judge(biometry: Biometry, disagreement: float | None, refined: bool, uncertainty: Uncertainty | None) -> Trust:
    """The trust of one measurement. Without a calibrated second stage, the segmentation's own
    signals decide (no interval)."""
    quality = biometry.quality
    if uncertainty is None or disagreement is None:
        return Trust(None, None, None, quality.confidence, quality.verdict, quality.flags)
    poor, fair = _plausibility(quality)
    spread = Uncertainty.spread(disagreement, uncertainty.floor)
    if not refined:
        poor.append("the fine stage found no head where the coarse stage did; the outline is coarse")
    elif spread > uncertainty.poor_above:
        poor.append(f"the two stages disagree on the HC by {disagreement:.1%}")
    elif spread > uncertainty.fair_above:
        fair.append(f"the two stages disagree on the HC by {disagreement:.1%}")
    confidence = uncertainty.confidence(disagreement) * (0.5 if poor else 1.0)
    verdict = "Poor" if poor else "Fair" if fair else "Good"

    def interval(hc: float | None) -> tuple[float, float] | None:
        if hc is None:
            return None
        half = uncertainty.half_width(hc, disagreement)
        return max(hc - half, 0.0), hc + half

    return Trust(interval(biometry.hc_px), interval(biometry.hc_mm), uncertainty.level, confidence, verdict,
                 tuple(poor + fair))


def judge_placed(biometry: Biometry) -> Trust:
    """The trust of an ellipse placed by hand: no interval and no confidence (both are calibrated on
    the model's own fits), and the verdict of the checks that need no map (``assess_placed``)."""
    quality = biometry.quality
    return Trust(None, None, None, None, quality.verdict, quality.flags)
