"""Train/validation split by subject: every image of a subject lands on the same side."""
from __future__ import annotations

import numpy as np
import pandas as pd

SPLIT_SEED = 42
VALIDATION_FRACTION = 0.15


def split_by_subject(subjects: pd.Series, fraction: float = VALIDATION_FRACTION,
                     seed: int = SPLIT_SEED) -> pd.Series:
    """``"train"``/``"validation"`` per row, drawing ``fraction`` of the *subjects* with ``seed``.

    Subjects are sorted before the seeded permutation, so the split depends only on the set of
    subjects and the seed, not on row order.
    """
    unique = np.array(sorted(subjects.unique()))
    rng = np.random.default_rng(seed)
    n_val = int(round(fraction * len(unique)))
    validation = set(rng.permutation(unique)[:n_val])
    return subjects.map(lambda s: "validation" if s in validation else "train")


# The validation subjects in three parts, so that nothing reported was used to choose anything:
# "selection" decides settings (how the stages combine, the verdict's thresholds), "calibration"
# fits the conformal HC interval, and "report" is only measured. Fixed before any model saw them.
VALIDATION_PARTS = (("selection", 0.25), ("calibration", 0.35), ("report", 0.40))
PARTS_SEED = 2026


def validation_parts(subjects: pd.Series, seed: int = PARTS_SEED) -> pd.Series:
    """The part of :data:`VALIDATION_PARTS` of each row's subject (rows of validation subjects only)."""
    unique = np.random.default_rng(seed).permutation(np.array(sorted(subjects.unique())))
    bounds = np.round(np.cumsum([share for _, share in VALIDATION_PARTS]) * len(unique)).astype(int)
    part_of = {}
    for (name, _), start, stop in zip(VALIDATION_PARTS, [0, *bounds[:-1]], bounds):
        part_of.update(dict.fromkeys(unique[start:stop], name))
    return subjects.map(part_of)


def part_of_validation(table: pd.DataFrame, part: str) -> pd.DataFrame:
    """The rows of ``table`` (a data set table) whose subject is in ``part`` of the validation subjects."""
    validation = table[table["split"] == "validation"]
    return validation[validation_parts(validation["subject"]) == part]
