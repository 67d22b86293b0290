"""Segmentation losses for every head: soft Dice + binary cross-entropy, and a variant whose
cross-entropy weighs the band around the reference outline more (HC is read from the outline)."""
from __future__ import annotations

import keras
from keras import ops

HEAD_LOSS_WEIGHTS = {"main_output": 1.0, "aux_output_1": 0.5, "aux_output_2": 0.25}
# The band is the target's morphological gradient over a 7x7 window: 3 map pixels either side of
# the outline, about 1.5 % of the head's width in a stage-2 window. Its pixels weigh 1 + 4.
BOUNDARY_BAND_PX = 7
BOUNDARY_EXTRA_WEIGHT = 4.0


def _soft_dice_loss(y_true, y_pred):
    smooth = 1.0
    axes = (1, 2, 3)
    intersection = ops.sum(y_true * y_pred, axis=axes)
    denom = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - (2.0 * intersection + smooth) / (denom + smooth)


@keras.saving.register_keras_serializable(package="fetalhc")
def dice_bce_loss(y_true, y_pred):
    """Per-image soft Dice loss plus BCE; works with soft (fractional) targets."""
    bce = ops.mean(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))
    return _soft_dice_loss(y_true, y_pred) + bce


def boundary_weights(y_true):
    """1 everywhere, 1 + BOUNDARY_EXTRA_WEIGHT on the band around the target's outline."""
    dilated = ops.max_pool(y_true, BOUNDARY_BAND_PX, strides=1, padding="same")
    eroded = -ops.max_pool(-y_true, BOUNDARY_BAND_PX, strides=1, padding="same")
    return 1.0 + BOUNDARY_EXTRA_WEIGHT * (dilated - eroded)[..., 0]


@keras.saving.register_keras_serializable(package="fetalhc")
def boundary_dice_bce_loss(y_true, y_pred):
    """Soft Dice plus a BCE averaged with ``boundary_weights``: a pixel wrong at the outline costs
    five times one wrong far from it, so the gradient goes where the ellipse is fitted."""
    weights = boundary_weights(y_true)
    bce = keras.losses.binary_crossentropy(y_true, y_pred)
    weighted = ops.sum(weights * bce, axis=(1, 2)) / ops.sum(weights, axis=(1, 2))
    return _soft_dice_loss(y_true, y_pred) + weighted


LOSSES = {"dice_bce": dice_bce_loss, "boundary": boundary_dice_bce_loss}


@keras.saving.register_keras_serializable(package="fetalhc")
def dice_coefficient(y_true, y_pred):
    """Dice of the thresholded prediction against the thresholded target."""
    t = ops.cast(y_true >= 0.5, "float32")
    p = ops.cast(y_pred >= 0.5, "float32")
    inter = ops.sum(t * p, axis=(1, 2, 3))
    return (2.0 * inter + 1.0) / (ops.sum(t, axis=(1, 2, 3)) + ops.sum(p, axis=(1, 2, 3)) + 1.0)
