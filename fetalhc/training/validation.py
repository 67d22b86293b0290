"""Validation while training, through the one measurement road: the figures ``evaluate`` reports."""
from __future__ import annotations

import keras
import pandas as pd
import tensorflow as tf

from fetalhc.evaluation.evaluate import evaluate_table
from fetalhc.model.loader import Segmenter
from fetalhc.predictor import HeadPredictor


def training_segmenter(model: keras.Model, name: str) -> Segmenter:
    """The network being trained, as the predictor calls a loaded one (main head only)."""
    predict = tf.function(lambda x: model(x, training=False)[0])
    return Segmenter(path=None, card={"name": name, "version": "training"},
                     _forward=lambda x: predict(tf.constant(x)).numpy(), runtime="keras")


def validation_row(predictor: HeadPredictor, table: pd.DataFrame) -> dict[str, float]:
    """Mean/median/p95/max absolute HC difference (a missed head counts as its whole HC), misses, Dice."""
    _, result = evaluate_table(table, predictor, progress=False)
    a = result["abs_difference_mm"]
    return {"val_hc_mae_mm": a["mean"], "val_hc_median_mm": a["median"], "val_hc_p95_mm": a["p95"],
            "val_hc_max_mm": a["max"], "val_missed": result["n_no_head_found"], "val_dice": result["dice"]["mean"]}
