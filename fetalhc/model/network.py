"""DAG V-Net: a 2D V-Net with attention gates on the skips and deep supervision (Keras 3).

After Zeng et al., "Fetal ultrasound image segmentation for automatic head circumference
biometry using deeply supervised attention-gated V-Net", J Digit Imaging 34:134-148 (2021);
V-Net: Milletari et al., 3DV 2016; attention gates: Oktay et al., MIDL 2018.
"""
from __future__ import annotations

import keras
from keras import layers

from fetalhc.model.constants import DEFAULT_WIDTHS, INPUT_SIZE

HEAD_NAMES = ("main_output", "aux_output_1", "aux_output_2")
# V-Net's growing number of convolutions per stage, bottleneck last.
DEFAULT_DEPTHS = (1, 2, 3, 3, 3)


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def residual_block(x, filters: int, n_convs: int, name: str):
    """V-Net stage: ``n_convs`` 3x3 convolutions added to a (projected) shortcut."""
    shortcut = x
    if x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_proj")(x)
    for i in range(n_convs):
        x = _conv_bn_relu(x, filters, f"{name}_{i}")
    return layers.Add(name=f"{name}_add")([x, shortcut])


def attention_gate(skip, gating, inter_channels: int, name: str):
    """Additive attention (Oktay et al.): weight the skip by a map computed from the coarser gating signal."""
    theta = layers.Conv2D(inter_channels, 2, strides=2, use_bias=False, name=f"{name}_theta")(skip)
    phi = layers.Conv2D(inter_channels, 1, name=f"{name}_phi")(gating)
    f = layers.ReLU(name=f"{name}_relu")(layers.Add(name=f"{name}_add")([theta, phi]))
    psi = layers.Conv2D(1, 1, activation="sigmoid", name=f"{name}_psi")(f)
    psi = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up")(psi)
    return layers.Multiply(name=f"{name}_gate")([skip, psi])


def _head(x, scale: int, name: str):
    if scale > 1:
        x = layers.UpSampling2D(scale, interpolation="bilinear", name=f"{name}_up")(x)
    return layers.Conv2D(1, 1, activation="sigmoid", name=name)(x)


def build_dag_vnet(widths: tuple[int, ...] = DEFAULT_WIDTHS, depths: tuple[int, ...] = DEFAULT_DEPTHS,
                   input_size: int = INPUT_SIZE) -> keras.Model:
    """The segmentation network: 1-channel image in [0, 1] -> three full-resolution probability maps.

    Outputs, in order: ``main_output`` (finest decoder stage), ``aux_output_1`` (one stage
    coarser, upsampled x2) and ``aux_output_2`` (two stages coarser, upsampled x4).
    """
    if len(widths) != len(depths) or len(widths) < 4:
        raise ValueError("widths and depths need the same length, at least 4 stages")
    inputs = keras.Input((input_size, input_size, 1), name="image")
    x = residual_block(inputs, widths[0], depths[0], "enc0")
    skips = [x]
    for level in range(1, len(widths)):
        x = layers.Conv2D(widths[level], 2, strides=2, use_bias=False, name=f"down{level}")(x)
        x = layers.ReLU(name=f"down{level}_relu")(layers.BatchNormalization(name=f"down{level}_bn")(x))
        x = residual_block(x, widths[level], depths[level], f"enc{level}")
        skips.append(x)
    skips.pop()  # the bottleneck is not a skip

    decoded = []
    for level in range(len(widths) - 2, -1, -1):
        gated = attention_gate(skips[level], x, max(widths[level] // 2, 4), f"att{level}")
        x = layers.Conv2DTranspose(widths[level], 2, strides=2, use_bias=False, name=f"up{level}")(x)
        x = layers.Concatenate(name=f"cat{level}")([x, gated])
        x = residual_block(x, widths[level], max(depths[level], 2), f"dec{level}")
        decoded.append(x)

    outputs = [
        _head(decoded[-1], 1, HEAD_NAMES[0]),
        _head(decoded[-2], 2, HEAD_NAMES[1]),
        _head(decoded[-3], 4, HEAD_NAMES[2]),
    ]
    return keras.Model(inputs, outputs, name="dag_vnet")
