"""CSV of the augmented image/mask pairs, paired by file name."""
from __future__ import annotations

import argparse
from pathlib import Path

from datadaprocess.augmented import augmented_table
from fetalhc.data.cli import run
from fetalhc.data.dataset import DEFAULT_AUG_CSV, DEFAULT_AUG_DIR, DEFAULT_DATASET_CSV, read_dataset_table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset-csv", type=Path, default=DEFAULT_DATASET_CSV)
    parser.add_argument("--aug-dir", type=Path, default=DEFAULT_AUG_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_AUG_CSV)
    args = parser.parse_args()
    table = augmented_table(read_dataset_table(args.dataset_csv), args.aug_dir)
    table.to_csv(args.out, index=False)
    print(f"wrote {args.out}: {len(table)} augmented pairs from {table['source_filename'].nunique()} images")
    return 0


if __name__ == "__main__":
    run(main)
