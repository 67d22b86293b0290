"""Filled head masks from the HC18 ellipse-outline annotations, each checked against the CSV HC."""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import pandas as pd
from tqdm import tqdm

from datadaprocess.cli import DEFAULT_MASK_DIR, add_hc18_argument, resolve_hc18, run
from datadaprocess.dataset_csv import mask_name
from datadaprocess.hc18 import annotation_name, read_training_table
from datadaprocess.masks import HC_TOLERANCE, make_mask, read_gray


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_hc18_argument(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_MASK_DIR,
                        help="output folder for NNN_HC_Mask.png (default: dataset/masks)")
    args = parser.parse_args()
    hc18 = resolve_hc18(args)
    table = read_training_table(hc18)
    args.out.mkdir(parents=True, exist_ok=True)
    checks = []
    for row in tqdm(table.itertuples(), total=len(table), desc="masks", unit="image"):
        annotation = read_gray(hc18 / "training_set" / annotation_name(row.filename))
        mask, result = make_mask(annotation, row.pixel_size_mm, row.hc_mm, row.filename)
        cv2.imwrite(str(args.out / mask_name(row.filename)), mask)
        checks.append({"filename": row.filename, "hc_reference_mm": row.hc_mm,
                       "hc_mask_mm": round(result.hc_fit_mm, 4),
                       "relative_error": result.relative_error, "verified": result.verified})
    report = pd.DataFrame(checks)
    report.to_csv(args.out / "mask_check.csv", index=False)
    bad = report[~report["verified"]]
    print(f"{len(report)} masks written to {args.out}; HC of the fitted ellipse vs CSV: "
          f"max relative error {report['relative_error'].max():.5%}, "
          f"{len(bad)} outside {HC_TOLERANCE:.1%}")
    for r in bad.itertuples():
        print(f"  MISMATCH {r.filename}: mask {r.hc_mask_mm:.2f} mm vs CSV {r.hc_reference_mm:.2f} mm")
    return 1 if len(bad) else 0


if __name__ == "__main__":
    run(main)
