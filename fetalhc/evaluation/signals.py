"""Which measured per-image signals follow the HC error, on the validation subjects that choose and
calibrate (never the report part): ``python -m fetalhc.evaluation.signals --model DIR``.

For each image of the selection and calibration parts it measures the signals the interval and the
verdict could be built from: the two stages' disagreement, stage 2 once more on a mirrored window
and on a shifted and turned one (the cheap variants: one more forward pass each), stage 2's own map
signals, and the head's size. It prints each signal's rank correlation (Spearman) with the absolute
error in mm and with the error relative to the HC, and the mean error per third of head size; the
per-image table goes to ``--out``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from tqdm import tqdm

from fetalhc.data.annotations import outline_ellipse
from fetalhc.data.dataset import DEFAULT_DATASET_CSV, read_dataset_table, read_gray
from fetalhc.data.split import part_of_validation
from fetalhc.imaging import load_image_file
from fetalhc.imaging.types import PixelSpacing
from fetalhc.measurement import Ellipse, NoHeadFoundError, measure_head
from fetalhc.measurement.frame import MapFrame
from fetalhc.model.constants import CROP_MARGIN, INPUT_SIZE
from fetalhc.predictor import HeadPredictor, load_predictor
from fetalhc.settings import Settings

PARTS = ("selection", "calibration")
# The shifted variant: a window moved by 5 % of its side both ways and turned by 10 degrees, within
# the jitter stage 2 was trained on.
SHIFT, TURN_DEG = (0.05, 0.05), 10.0


def _variant_hc(predictor: HeadPredictor, gray: np.ndarray, ellipse: Ellipse, spacing: PixelSpacing,
                mirrored: bool = False, shifted: bool = False) -> float:
    """Stage 2's HC (mm) on one more window around ``ellipse``: mirrored, or shifted and turned."""
    frame = MapFrame.around(ellipse, gray.shape, INPUT_SIZE, CROP_MARGIN,
                            *((SHIFT, TURN_DEG) if shifted else ((0.0, 0.0), 0.0)))
    window = frame.extract(gray).astype(np.float32) / 255.0
    if mirrored:
        prob = predictor.refiner.predict_batch(np.ascontiguousarray(window[None, :, ::-1]))[0, :, ::-1]
    else:
        prob = predictor.refiner.predict_batch(window[None])[0]
    try:
        return measure_head(prob, gray.shape, spacing, frame=frame, reject_below=0.0).hc_mm
    except NoHeadFoundError:
        return float("nan")


def measure_signals(table: pd.DataFrame, predictor: HeadPredictor) -> pd.DataFrame:
    rows = []
    for r in tqdm(list(table.itertuples()), desc="signals", unit="image"):
        gray = load_image_file(r.image_path).pixels
        spacing = PixelSpacing(r.pixel_size_mm, r.pixel_size_mm, "csv")
        biometry, stages = predictor.segment(gray, spacing)
        hc, fine = biometry.hc_mm, stages.fine or stages.coarse
        rows.append({
            "filename": r.filename, "subject": r.subject, "hc_mm": hc,
            "hc_ref_mm": outline_ellipse(read_gray(r.annotation_path)).perimeter * r.pixel_size_mm,
            "stage_disagreement": stages.disagreement,
            "stage_disagreement_mm": stages.disagreement * hc,
            "mirrored_disagreement_mm": abs(_variant_hc(predictor, gray, biometry.ellipse, spacing, mirrored=True) - hc),
            "shifted_disagreement_mm": abs(_variant_hc(predictor, gray, biometry.ellipse, spacing, shifted=True) - hc),
            "one_minus_ellipse_agreement": 1 - fine.quality.ellipse_iou,
            "one_minus_mean_probability": 1 - fine.quality.mean_probability,
            "one_minus_edge_sharpness": 1 - fine.quality.edge_sharpness,
        })
    out = pd.DataFrame(rows)
    out["abs_error_mm"] = (out["hc_mm"] - out["hc_ref_mm"]).abs()
    out["relative_error"] = out["abs_error_mm"] / out["hc_mm"]
    return out


def summary(signals: pd.DataFrame) -> str:
    names = [c for c in signals.columns if c not in ("filename", "subject", "hc_ref_mm", "abs_error_mm",
                                                     "relative_error")]
    lines = ["| signal | Spearman with abs error (mm) | with relative error |", "|---|---|---|"]
    for name in names:
        valid = signals[name].notna()
        rho_mm = spearmanr(signals.loc[valid, name], signals.loc[valid, "abs_error_mm"])[0]
        rho_rel = spearmanr(signals.loc[valid, name], signals.loc[valid, "relative_error"])[0]
        lines.append(f"| {name} | {rho_mm:+.2f} | {rho_rel:+.2f} |")
    thirds = signals.groupby(pd.qcut(signals["hc_ref_mm"], 3), observed=True)["abs_error_mm"].mean()
    lines += ["", "mean abs error by third of reference HC: " +
              ", ".join(f"{interval.left:.0f}-{interval.right:.0f} mm: {err:.2f} mm" for interval, err in thirds.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="a model folder with a stage2/ folder")
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--out", type=Path, default=Path("runs/signals.csv"))
    args = p.parse_args(argv)
    predictor = load_predictor(Settings.from_env(), model_dir=args.model)
    if predictor.refiner is None:
        p.error(f"{args.model} has no second stage")
    table = read_dataset_table(args.dataset_csv)
    signals = measure_signals(pd.concat([part_of_validation(table, part) for part in PARTS]), predictor)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    signals.to_csv(args.out, index=False)
    print(f"{len(signals)} images of {signals['subject'].nunique()} subjects ({' and '.join(PARTS)} parts)")
    print(summary(signals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
