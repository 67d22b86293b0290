"""Segmentation loss for every head: soft Dice + binary cross-entropy."""
from __future__ import annotations

import keras
from keras import ops

HEAD_LOSS_WEIGHTS = {"main_output": 1.0, "aux_output_1": 0.5, "aux_output_2": 0.25}


@keras.saving.register_keras_serializable(package="fetalhc")
def dice_bce_loss(y_true, y_pred):
    """Per-image soft Dice loss plus BCE; works with soft (fractional) targets."""
    smooth = 1.0
    axes = (1, 2, 3)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    denom = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    dice = 1.0 - (2.0 * intersection + smooth) / (denom + smooth)
    bce = ops.mean(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))
    return dice + bce


@keras.saving.register_keras_serializable(package="fetalhc")
def dice_coefficient(y_true, y_pred):
    """Dice of the thresholded prediction against the thresholded target."""
    t = ops.cast(y_true >= 0.5, "float32")
    p = ops.cast(y_pred >= 0.5, "float32")
    inter = ops.sum(t * p, axis=(1, 2, 3))
    return (2.0 * inter + 1.0) / (ops.sum(t, axis=(1, 2, 3)) + ops.sum(p, axis=(1, 2, 3)) + 1.0)
