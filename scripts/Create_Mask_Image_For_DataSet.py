"""Filled head masks from the HC18 ellipse-outline annotations, each checked against the CSV HC."""
from __future__ import annotations

import argparse
from pathlib import Path

from datadaprocess.masks import write_masks
from fetalhc.data.annotations import HC_TOLERANCE
from fetalhc.data.cli import add_hc18_argument, resolve_hc18, run
from fetalhc.data.dataset import DEFAULT_MASK_DIR


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_hc18_argument(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_MASK_DIR,
                        help="output folder for NNN_HC_Mask.png (default: dataset/masks)")
    args = parser.parse_args()
    report = write_masks(resolve_hc18(args), args.out)
    bad = report[~report["verified"]]
    print(f"{len(report)} masks written to {args.out}; HC of the fitted ellipse vs CSV: "
          f"max relative error {report['relative_error'].max():.5%}, "
          f"{len(bad)} outside {HC_TOLERANCE:.1%}")
    for r in bad.itertuples():
        print(f"  MISMATCH {r.filename}: mask {r.hc_mask_mm:.2f} mm vs CSV {r.hc_reference_mm:.2f} mm")
    return 1 if len(bad) else 0


if __name__ == "__main__":
    run(main)
