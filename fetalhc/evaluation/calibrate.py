"""Calibrate the HC interval and the verdict of a two-stage model:
``python -m fetalhc.evaluation.calibrate --model DIR``.

Measures the selection and calibration parts of the validation subjects through the predictor:
both choose the interval's millimetre floor by cross-validation by subject, the calibration part
gives its conformal quantiles and the selection part the verdict's thresholds. Writes
``uncertainty.json`` into the model folder. The report part is never read here.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from fetalhc.data.dataset import DEFAULT_DATASET_CSV, read_dataset_table
from fetalhc.data.split import PARTS_SEED, part_of_validation
from fetalhc.evaluation.evaluate import evaluate_table
from fetalhc.measurement.uncertainty import (FLOOR_CANDIDATES_MM, FLOOR_DRAWS, FLOOR_WIDTH_TOLERANCE,
                                              RELATIVE_FLOOR, calibrate, choose_floor)
from fetalhc.predictor import load_predictor
from fetalhc.settings import Settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="a model folder with a stage2/ folder")
    p.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    p.add_argument("--level", type=float, default=0.9)
    p.add_argument("--flagged-share", type=float, default=0.2,
                   help="share of selection images whose spread makes them at best Fair")
    args = p.parse_args(argv)
    predictor = load_predictor(Settings.from_env(), model_dir=args.model)
    if predictor.refiner is None:
        p.error(f"{args.model} has no second stage: only a two-stage model has a measured spread to calibrate")
    predictor = dataclasses.replace(predictor, uncertainty=None)  # the raw stages, whatever was calibrated before
    table = read_dataset_table(args.dataset_csv)
    measured = {}
    for part in ("calibration", "selection"):
        rows = part_of_validation(table, part)
        per_image = evaluate_table(rows, predictor)[0]
        measured[part] = per_image[per_image["found"]]
        print(f"{part}: {len(rows)} images of {rows['subject'].nunique()} subjects, "
              f"{int((~per_image['found']).sum())} without a head (left out)")
    cal, sel = measured["calibration"], measured["selection"]
    both = pd.concat([sel, cal])
    floor_mm, widths = choose_floor(both["hc_pred_mm"].to_numpy(), both["hc_ref_mm"].to_numpy(),
                                    both["stage_disagreement"].to_numpy(), both["subject"].to_numpy(), args.level)
    by_floor = ", ".join(f"{floor:g} mm: {width:.2f} mm" for floor, width in widths.items())
    print(f"mean width on held-out subjects by floor: {by_floor}")
    uncertainty = calibrate(cal["hc_pred_mm"].to_numpy(), cal["hc_ref_mm"].to_numpy(),
                            cal["stage_disagreement"].to_numpy(), sel["stage_disagreement"].to_numpy(), floor_mm,
                            level=args.level, flagged_share=args.flagged_share, provenance={
                                "interval": f"split-conformal on the calibration part ({len(cal)} images, "
                                            f"{cal['subject'].nunique()} subjects) of the validation subjects "
                                            f"(fetalhc/data/split.py, seed {PARTS_SEED})",
                                "floor_mm": f"{floor_mm:g} mm, of {', '.join(f'{c:g}' for c in FLOOR_CANDIDATES_MM)}: "
                                            f"the smallest within {FLOOR_WIDTH_TOLERANCE:.0%} of the narrowest mean interval "
                                            f"on held-out subjects over {FLOOR_DRAWS} random halves of the selection and "
                                            f"calibration subjects ({len(both)} images; mean width by floor: {by_floor})",
                                "floor_px": f"{RELATIVE_FLOOR} of the HC, fixed before calibration (answers without a "
                                            f"pixel size)",
                                "verdict": f"thresholds on the stage disagreement at its {1 - args.flagged_share:.0%} "
                                           f"and {1 - args.flagged_share / 4:.0%} quantiles on the selection part "
                                           f"({len(sel)} images)",
                                "command": "python -m fetalhc.evaluation.calibrate " +
                                           " ".join(argv if argv is not None else sys.argv[1:]),
                                "date": date.today().isoformat()})
    path = uncertainty.save(args.model)
    print(f"floor {floor_mm:g} mm, quantile {uncertainty.mm.quantile:.3f} (pixels: {uncertainty.px.quantile:.3f}), "
          f"Fair above a disagreement of {uncertainty.fair_above:.4f}, Poor above {uncertainty.poor_above:.4f} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
