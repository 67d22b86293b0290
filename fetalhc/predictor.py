"""The one road from a loaded image to a measurement: what the app, the command-line tools,
evaluation and training-time validation all call.

``HeadPredictor.measure`` checks the request's values, runs the network(s), fits the head and
adds the clinical interpretation. Its :class:`Measurement` keeps full precision;
``fetalhc.record.MeasurementRecord.of`` turns it into what clients see.

With a second stage (a ``stage2/`` folder in the model folder), stage 1 only locates the head
on the whole image; stage 2 segments a window cut around the stage-1 ellipse, where the head
fills the network's input, and the reported ellipse is fitted to its outline. How far the two
stages' HC disagree is kept as a measured uncertainty of the answer.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fetalhc.clinical import (HadlockEstimate, HcCentile, IntergrowthGaEstimate, ga_from_hc,
                              hadlock_ga_from_hc, hc_centile)
from fetalhc.imaging.types import ImageFacts, LoadedImage, PixelSpacing
from fetalhc.measurement import Biometry, Ellipse, NoHeadFoundError, measure_head
from fetalhc.measurement.biometry import averaged, placed_biometry
from fetalhc.measurement.frame import MapFrame
from fetalhc.measurement.quality import REJECT_CONFIDENCE
from fetalhc.measurement.uncertainty import Trust, Uncertainty, judge, judge_placed
from fetalhc.model.constants import CROP_MARGIN, INPUT_SIZE, STAGE2_DIR
from fetalhc.model.loader import Segmenter, load_segmenter
from fetalhc.record import MeasurementRecord
from fetalhc.settings import Settings

# Where stage 2 is this sure, its map is the head's core: a region that a threshold of 0.5 joins to a
# neighbouring structure separates from it here. Fixed, not tuned: no validation image comes to it.
CORE_THRESHOLD = 0.9


class InvalidParameterError(ValueError):
    """A request value (pixel size, gestational age) outside what can be measured with."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Measurement:
    """One measured head, full precision, with the clinical interpretation of its HC."""

    image: LoadedImage | ImageFacts       # ImageFacts: an ellipse measured without its image
    spacing: PixelSpacing | None
    biometry: Biometry
    hadlock: HadlockEstimate | None       # None when uncalibrated
    intergrowth_ga: IntergrowthGaEstimate | None
    centile: HcCentile | None             # only when a gestational age was given
    seconds: float
    trust: Trust                          # interval, confidence, verdict and its reasons
    stages: Stages | None = None          # both stages' own fits, with two stages
    ellipse_source: str = "automatic"     # "edited": the ellipse was placed by hand
    automatic: Biometry | None = None     # with an edited ellipse: the automatic fit, when known

    @property
    def coarse(self) -> Biometry | None:
        return None if self.stages is None else self.stages.coarse

    @property
    def stage_disagreement(self) -> float | None:
        return None if self.stages is None else self.stages.disagreement


@dataclass(frozen=True)
class Stages:
    """What each stage saw of the head; ``fine`` is None when stage 2 found no head."""

    coarse: Biometry
    fine: Biometry | None
    at_core: bool = False   # stage 2 found the head only around the surest part of its map

    @property
    def disagreement(self) -> float:
        """|HC of stage 1 - HC of stage 2| / HC of stage 2 (pixels); 1 when stage 2 saw no head."""
        if self.fine is None:
            return 1.0
        return abs(self.coarse.hc_px - self.fine.hc_px) / self.fine.hc_px


def _centile_refusal(biometry: Biometry, hadlock: HadlockEstimate) -> str | None:
    """Why no centile is given for this HC: a size no fetus has, or one outside Hadlock's formula."""
    if biometry.quality.plausible_size is False:
        return f"HC {biometry.hc_mm:.0f} mm is not a plausible fetal head size, so no centile is given; check the pixel size"
    if not hadlock.valid:
        return f"no centile is given: {hadlock.reason}"
    return None


def _check_placement(field: str, ellipse: Ellipse, width: int, height: int) -> None:
    """An ellipse placed by hand must be a real ellipse on the image: its centre on it, its semi-axes
    longer than 0 and at most the image's diagonal."""
    diagonal = math.hypot(width, height)
    if not 0.0 < ellipse.semi_minor <= ellipse.semi_major <= diagonal:
        raise InvalidParameterError(field, f"The field '{field}' must have semi-axes longer than 0 and at most the "
                                           f"image's diagonal ({diagonal:.0f} pixels); got {ellipse.semi_major:g} "
                                           f"and {ellipse.semi_minor:g}.")
    if not (-0.5 <= ellipse.center_x <= width - 0.5 and -0.5 <= ellipse.center_y <= height - 0.5):
        raise InvalidParameterError(field, f"The field '{field}' must have its centre on the {width}x{height} image "
                                           f"(x from 0 to {width - 1}, y from 0 to {height - 1} pixels); got "
                                           f"({ellipse.center_x:g}, {ellipse.center_y:g}). Move it onto the head.")


def _interpreted(biometry: Biometry, ga_weeks: float | None) -> tuple[HadlockEstimate | None,
                                                                     IntergrowthGaEstimate | None, HcCentile | None]:
    """Hadlock's and INTERGROWTH-21st's gestational age of the HC, and its centile at ``ga_weeks``."""
    if biometry.hc_mm is None:
        return None, None, None
    hadlock = hadlock_ga_from_hc(biometry.hc_mm)
    centile = None
    if ga_weeks is not None:
        centile = hc_centile(biometry.hc_mm, ga_weeks, refused=_centile_refusal(biometry, hadlock))
    return hadlock, ga_from_hc(biometry.hc_mm), centile


def _check_range(field: str, value: float, limits: tuple[float, float], what: str) -> None:
    low, high = limits
    if not (math.isfinite(value) and low <= value <= high):
        raise InvalidParameterError(field, f"The field '{field}' must give {what} from {low:g} to at most "
                                           f"{high:g}; got {value:g}. Correct it or leave it empty.")


@dataclass
class HeadPredictor:
    """A loaded model and the request limits: images in, measurements out."""

    segmenter: Segmenter                 # stage 1: the whole image
    settings: Settings
    refiner: Segmenter | None = None     # stage 2: a window around the stage-1 head
    uncertainty: Uncertainty | None = None  # the calibrated interval of the two stages
    combine: str = "fine"                # the reported fit: stage 2's ("fine") or both stages' "mean"

    @property
    def name(self) -> str:
        return self.segmenter.name

    @property
    def version(self) -> str:
        return self.segmenter.version

    def spacing_for(self, image: LoadedImage, pixel_size_mm: float | None) -> PixelSpacing | None:
        """A pixel size typed by the user wins over the file's own calibration."""
        if pixel_size_mm is None:
            return image.spacing
        _check_range("pixel_size_mm", pixel_size_mm, self.settings.pixel_size_mm_range, "a pixel size in mm")
        return PixelSpacing(pixel_size_mm, pixel_size_mm, "form")

    def measure(self, image: LoadedImage, pixel_size_mm: float | None = None, ga_weeks: float | None = None,
                started: float | None = None) -> Measurement:
        """Segment, measure and interpret one image. ``started`` (a ``time.perf_counter()`` value)
        makes the reported time include what the caller did before, such as decoding.

        Raises ``InvalidParameterError`` for an unusable value and ``NoHeadFoundError`` when no
        head is seen.
        """
        started = time.perf_counter() if started is None else started
        spacing = self._checked(image, pixel_size_mm, ga_weeks)
        biometry, stages = self.segment(image.pixels, spacing)
        trust = judge(biometry, None if stages is None else stages.disagreement,
                      stages is None or stages.fine is not None, self.uncertainty,
                      at_core=stages is not None and stages.at_core)
        return Measurement(image, spacing, biometry, *_interpreted(biometry, ga_weeks),
                           time.perf_counter() - started, trust, stages)

    def measure_placed(self, ellipse: Ellipse, image: LoadedImage | ImageFacts, pixel_size_mm: float | None = None,
                       ga_weeks: float | None = None, automatic: Ellipse | Biometry | None = None,
                       started: float | None = None) -> Measurement:
        """The measurement of an ellipse placed by hand on ``image`` (decoded, or only described): the
        lengths, clinical interpretation and alerts of a fitted ellipse, without the model's interval.
        ``automatic`` is the automatic fit it replaces (its biometry, or only its ellipse), if known.

        Raises ``InvalidParameterError`` for an unusable value or an ellipse that is not on the image.
        """
        started = time.perf_counter() if started is None else started
        spacing = self._checked(image, pixel_size_mm, ga_weeks)
        shape = (image.height, image.width)
        _check_placement("ellipse", ellipse, image.width, image.height)
        if isinstance(automatic, Ellipse):
            _check_placement("automatic", automatic, image.width, image.height)
            automatic = placed_biometry(automatic, shape, spacing)
        biometry = placed_biometry(ellipse, shape, spacing)
        return Measurement(image, spacing, biometry, *_interpreted(biometry, ga_weeks), time.perf_counter() - started,
                           judge_placed(biometry), ellipse_source="edited", automatic=automatic)

    def _checked(self, image: LoadedImage | ImageFacts, pixel_size_mm: float | None,
                 ga_weeks: float | None) -> PixelSpacing | None:
        """The pixel size to measure with, once it and ``ga_weeks`` are checked."""
        if isinstance(image, ImageFacts) and image.spacing is not None:  # the client's word, checked as if typed
            for field, value in (("pixel_size_mm", image.spacing.x_mm), ("pixel_size_y_mm", image.spacing.y_mm)):
                _check_range(field, value, self.settings.pixel_size_mm_range, "a pixel size in mm")
        spacing = self.spacing_for(image, pixel_size_mm)
        if ga_weeks is not None:
            _check_range("ga_weeks", ga_weeks, self.settings.ga_weeks_range, "a gestational age in weeks")
        return spacing

    def segment(self, gray: np.ndarray, spacing: PixelSpacing | None) -> tuple[Biometry, Stages | None]:
        """The head's biometry, and each stage's own fit with two stages."""
        if self.refiner is None:
            return measure_head(self.segmenter.predict(gray), gray.shape, spacing), None
        # Stage 1 only has to say where the head is: a weak but real head is judged by stage 2.
        coarse = measure_head(self.segmenter.predict(gray), gray.shape, spacing, reject_below=0.0)
        fine = self._refine(gray, coarse.ellipse, spacing)
        if fine is not None and fine.quality.evidence >= REJECT_CONFIDENCE:
            return (averaged(coarse, fine) if self.combine == "mean" else fine), Stages(coarse, fine)
        if coarse.quality.evidence >= REJECT_CONFIDENCE:
            return coarse, Stages(coarse, None)
        core = self._look_at_core(gray, (fine or coarse).ellipse, spacing)
        if core is not None and core.quality.evidence >= REJECT_CONFIDENCE:
            return core, Stages(coarse, core, at_core=True)
        raise NoHeadFoundError("no fetal head found: neither stage sees a skull in the image")

    def _refine(self, gray: np.ndarray, ellipse: Ellipse, spacing: PixelSpacing | None) -> Biometry | None:
        fine = self._window(gray, ellipse, spacing)
        # A window that cut the head, or a head much larger or smaller than stage 1 said (a sliver
        # of a head in stage 1), is looked at once more around stage 2's own ellipse.
        if fine is not None and (fine.outline_on_map_border > 0
                                 or abs(math.log(fine.ellipse.semi_major / ellipse.semi_major)) > math.log(1.25)):
            fine = self._window(gray, fine.ellipse, spacing) or fine
        return fine

    def _look_at_core(self, gray: np.ndarray, ellipse: Ellipse, spacing: PixelSpacing | None) -> Biometry | None:
        """Stage 2 once more, around the part of its map around ``ellipse`` where it is surest: a real
        head whose region ran into a neighbouring structure (a small head beside the dark sac) is
        found there rather than refused. Only images that would otherwise be refused come here."""
        core = self._window(gray, ellipse, spacing, threshold=CORE_THRESHOLD)
        return None if core is None else self._window(gray, core.ellipse, spacing)

    def _window(self, gray: np.ndarray, ellipse: Ellipse, spacing: PixelSpacing | None,
                threshold: float = 0.5) -> Biometry | None:
        """Stage 2's fit, at ``threshold``, in a window around ``ellipse``; None when it finds nothing."""
        frame = MapFrame.around(ellipse, gray.shape, INPUT_SIZE, CROP_MARGIN)
        window = frame.extract(gray).astype(np.float32) / 255.0
        try:
            return measure_head(self.refiner.predict_batch(window[None])[0], gray.shape, spacing, threshold=threshold,
                                frame=frame, reject_below=0.0)
        except NoHeadFoundError:
            return None

    def record(self, measurement: Measurement, cls: type[MeasurementRecord] = MeasurementRecord,
               **extra) -> MeasurementRecord:
        """What clients see of ``measurement``; ``cls`` and ``extra`` add a transport's fields."""
        return cls.of(measurement, self.name, self.version, **extra)


def load_predictor(settings: Settings | None = None, model_dir=None, runtime: str | None = None,
                   threads: int | None = None, flip_tta: bool = False) -> HeadPredictor:
    """The model of ``model_dir`` (default: the settings' model folder) ready to measure."""
    settings = settings or Settings.from_env()
    model_dir = Path(model_dir or settings.model_dir)
    options = dict(flip_tta=flip_tta, runtime=runtime or settings.runtime, threads=threads or settings.threads)
    segmenter = load_segmenter(model_dir, **options)
    refiner = load_segmenter(model_dir / STAGE2_DIR, **options) if (model_dir / STAGE2_DIR).is_dir() else None
    if refiner is None:
        return HeadPredictor(segmenter, settings)
    return HeadPredictor(segmenter, settings, refiner, Uncertainty.load(model_dir),
                         combine=refiner.card.get("combine", "fine"))
