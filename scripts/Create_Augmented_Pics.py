"""N augmented copies of every training image and its mask (validation subjects are skipped)."""
from __future__ import annotations

import argparse
from pathlib import Path

from datadaprocess.augmented import augment_dataset
from fetalhc.data.cli import run
from fetalhc.data.dataset import DEFAULT_AUG_DIR, DEFAULT_DATASET_CSV, read_dataset_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    parser.add_argument("--out", type=Path, default=DEFAULT_AUG_DIR)
    parser.add_argument("--copies", type=int, default=30, help="augmentations per image (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N training images")
    args = parser.parse_args()
    table = read_dataset_table(args.dataset_csv)
    if args.limit:
        table = table[table["split"] == "train"].head(args.limit)
    written = augment_dataset(table, args.out, args.copies, args.seed, args.workers)
    n_train = int((table["split"] == "train").sum())
    print(f"wrote {written} augmented pairs ({args.copies} per image, {n_train} training images) "
          f"to {args.out}; validation subjects skipped")
    return 0


if __name__ == "__main__":
    run(main)
