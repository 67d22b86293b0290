"""One CSV of the HC18 training data: paths, pixel size, reference HC, subject and a subject-wise split."""
from __future__ import annotations

import argparse
from pathlib import Path

from datadaprocess.dataset_csv import build_dataset_table
from fetalhc.data.cli import add_hc18_argument, resolve_hc18, run
from fetalhc.data.dataset import DEFAULT_DATASET_CSV, DEFAULT_MASK_DIR
from fetalhc.data.split import SPLIT_SEED, VALIDATION_FRACTION


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_hc18_argument(parser)
    parser.add_argument("--mask-dir", type=Path, default=DEFAULT_MASK_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_DATASET_CSV)
    parser.add_argument("--seed", type=int, default=SPLIT_SEED, help="split seed (default %(default)s)")
    parser.add_argument("--val-fraction", type=float, default=VALIDATION_FRACTION,
                        help="fraction of subjects for validation (default %(default)s)")
    args = parser.parse_args()
    table = build_dataset_table(resolve_hc18(args), args.mask_dir, args.seed, args.val_fraction)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    counts = table.groupby("split").agg(images=("filename", "size"), subjects=("subject", "nunique"))
    print(f"wrote {args.out}: {len(table)} images of {table['subject'].nunique()} subjects "
          f"(split by subject, seed {args.seed})")
    print(counts.to_string())
    return 0


if __name__ == "__main__":
    run(main)
