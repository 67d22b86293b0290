"""HC18 challenge submission for the test set: ``python -m fetalhc.inference.submission --out submission.csv``.

Columns as the challenge asks: filename, center_x_mm, center_y_mm, semi_axes_a_mm,
semi_axes_b_mm, angle_rad (a = semi-major axis, angle of the a-axis from the image x axis,
y pointing down, in radians in [0, pi)).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from fetalhc.data.cli import add_hc18_argument, resolve_hc18, run
from fetalhc.data.hc18 import read_test_table
from fetalhc.imaging import load_image_file
from fetalhc.measurement import NoHeadFoundError
from fetalhc.predictor import load_predictor
from fetalhc.settings import Settings

COLUMNS = ["filename", "center_x_mm", "center_y_mm", "semi_axes_a_mm", "semi_axes_b_mm", "angle_rad"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_hc18_argument(p)
    p.add_argument("--model", type=Path, default=None)
    p.add_argument("--out", type=Path, default=Path("hc18_submission.csv"))
    args = p.parse_args(argv)
    hc18 = resolve_hc18(args)
    table = read_test_table(hc18)
    predictor = load_predictor(Settings.from_env(), model_dir=args.model)
    rows, missed = [], []
    for r in tqdm(table.itertuples(), total=len(table), desc="submission", unit="image"):
        s = r.pixel_size_mm
        try:
            e = predictor.measure(load_image_file(hc18 / "test_set" / r.filename), s).biometry.ellipse
        except NoHeadFoundError:
            # The challenge needs a row per image: a missed head is submitted as an empty ellipse.
            missed.append(r.filename)
            rows.append([r.filename, 0.0, 0.0, 0.0, 0.0, 0.0])
            continue
        rows.append([r.filename, e.center_x * s, e.center_y * s, e.semi_major * s, e.semi_minor * s,
                     math.radians(e.angle_deg)])
    pd.DataFrame(rows, columns=COLUMNS).to_csv(args.out, index=False, float_format="%.6f")
    print(f"wrote {args.out}: {len(rows)} rows" + (f"; no head found in {missed}" if missed else ""))
    return 0


if __name__ == "__main__":
    run(main)
