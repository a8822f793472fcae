"""Dense, batch norm, reshaping, merging and global pooling layers, and the table of every layer
class the Keras frontend lowers (``LOWERINGS``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from microforge.frontends.keras import activations, conv
from microforge.frontends.keras.lowering import Layer, Lowering
from microforge.frontends.keras.recurrent import lower_lstm
from microforge.ir import Activation
from microforge.ir.ops.enums import FullyConnectedWeightsFormat


def lower_dense(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """Dense: FULLY_CONNECTED with the kernel transposed to (units, in); on an input of rank > 2
    with ``keep_num_dims`` (the product over the last axis only)."""
    kernel = layer.weights[0]
    units = kernel.shape[1]
    bias = layer.weights[1] if layer.get("use_bias", True) else np.zeros(units, np.float32)
    shape = lw.shape(xs[0])
    y = lw.value(layer.name, shape[:-1] + (units,))
    inputs = [xs[0], lw.const(f"{layer.name}/kernel", kernel.T), lw.const(f"{layer.name}/bias", bias)]
    index = lw.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=Activation.NONE,
                  weights_format=FullyConnectedWeightsFormat.DEFAULT, keep_num_dims=len(shape) > 2,
                  asymmetric_quantize_inputs=False)
    lw.core[y] = (index, True)
    return [activations.activate_layer(lw, layer, y)]


def lower_batch_norm(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """BatchNormalization (inference): folded into the convolution / dense that made its input,
    else MUL and ADD by ``gamma / sqrt(var + eps)`` and ``beta - mean * scale``."""
    x = xs[0]
    rank = len(lw.shape(x))
    axis = layer.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, rank - 1):
        raise layer.unsupported(f"normalizing axis {axis} (only the last, channels-last axis)")
    w = list(layer.weights)
    gamma = w.pop(0) if layer.get("scale", True) else 1.0
    beta = w.pop(0) if layer.get("center", True) else 0.0
    mean, var = w
    eps = float(layer.get("epsilon", 1e-3))
    scale = (gamma / np.sqrt(var.astype(np.float64) + eps)).astype(np.float32)
    shift = (beta - mean * scale).astype(np.float32)
    if lw.fold_scale_shift(x, scale, shift, layer.sole_input):
        return [x]
    scaled = lw.binary("MUL", x, lw.const(f"{layer.name}/scale", scale), f"{layer.name}/scaled")
    return [lw.binary("ADD", scaled, lw.const(f"{layer.name}/shift", shift), layer.name)]


def _reshape(lw: Lowering, x: int, shape: tuple[int, ...], name: str) -> int:
    y = lw.value(name, shape)
    lw.op("RESHAPE", [x, lw.ints(f"{name}/shape", (-1,) + shape[1:])], [y])
    return y


def lower_flatten(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    shape = lw.shape(xs[0])
    return [_reshape(lw, xs[0], (shape[0], int(np.prod(shape[1:]))), layer.name)]


def lower_reshape(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    shape = lw.shape(xs[0])
    target = [int(v) for v in layer.get("target_shape")]
    if -1 in target:
        known = int(np.prod([v for v in target if v != -1]))
        target[target.index(-1)] = int(np.prod(shape[1:])) // known
    if int(np.prod(target)) != int(np.prod(shape[1:])):
        raise layer.unsupported(f"reshaping {list(shape[1:])} to {target}")
    return [_reshape(lw, xs[0], (shape[0],) + tuple(target), layer.name)]


def _merge(opcode: str) -> Callable[[Lowering, Layer, list[int]], list[int]]:
    def lower(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
        y = xs[0]
        for k, x in enumerate(xs[1:], start=2):
            y = lw.binary(opcode, y, x, layer.name if k == len(xs) else f"{layer.name}/{k}")
        return [y]

    lower.__doc__ = f"A merge layer: a chain of {opcode}."
    return lower


def lower_concatenate(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    shapes = [lw.shape(x) for x in xs]
    axis = int(layer.get("axis", -1)) % len(shapes[0])
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    y = lw.value(layer.name, tuple(out))
    lw.op("CONCATENATION", xs, [y], axis=axis, fused_activation_function=Activation.NONE)
    return [y]


def lower_global_pool(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """Global{Average,Max}Pooling{1,2}D: MEAN / REDUCE_MAX over the spatial axes."""
    if layer.get("data_format", "channels_last") != "channels_last":
        raise layer.unsupported("data_format channels_first")
    shape = lw.shape(xs[0])
    axes = list(range(1, len(shape) - 1))
    keep = bool(layer.get("keepdims", False))
    out = tuple(1 if k in axes else n for k, n in enumerate(shape)) if keep else (
        shape[0], shape[-1])
    y = lw.value(layer.name, out)
    opcode = "MEAN" if "Average" in layer.cls else "REDUCE_MAX"
    lw.op(opcode, [xs[0], lw.ints(f"{layer.name}/axes", axes)], [y], keep_dims=keep)
    return [y]


Lower = Callable[[Lowering, Layer, list[int]], list[int]]

LOWERINGS: dict[str, Lower] = {
    "Activation": activations.lower_activation,
    "Add": _merge("ADD"),
    "AveragePooling1D": conv.lower_pool,
    "AveragePooling2D": conv.lower_pool,
    "BatchNormalization": lower_batch_norm,
    "Concatenate": lower_concatenate,
    "Conv1D": conv.lower_conv,
    "Conv2D": conv.lower_conv,
    "Dense": lower_dense,
    "DepthwiseConv2D": conv.lower_depthwise,
    "Flatten": lower_flatten,
    "GlobalAveragePooling1D": lower_global_pool,
    "GlobalAveragePooling2D": lower_global_pool,
    "GlobalMaxPooling1D": lower_global_pool,
    "GlobalMaxPooling2D": lower_global_pool,
    "LSTM": lower_lstm,
    "LeakyReLU": activations.lower_leaky_relu,
    "MaxPooling1D": conv.lower_pool,
    "MaxPooling2D": conv.lower_pool,
    "Multiply": _merge("MUL"),
    "ReLU": activations.lower_relu,
    "Reshape": lower_reshape,
    "SeparableConv2D": conv.lower_separable,
    "Softmax": activations.lower_softmax,
    "Subtract": _merge("SUB"),
    "ZeroPadding1D": conv.lower_zero_padding,
    "ZeroPadding2D": conv.lower_zero_padding,
}

# Layers that do nothing at inference: their output is their input.
IDENTITY = frozenset({"Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
                      "GaussianDropout", "AlphaDropout", "ActivityRegularization"})
