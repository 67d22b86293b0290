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
