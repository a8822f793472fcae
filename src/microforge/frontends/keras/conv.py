"""Convolution, pooling and padding layers, lowered as the TFLite converter lowers them.

Keras kernels are ``(kh, kw, in, out)``; TFLite's CONV_2D wants ``(out, kh, kw, in)`` and
DEPTHWISE_CONV_2D ``(1, kh, kw, in * multiplier)`` (channel ``c * multiplier + m``). The 1-D
layers run as their 2-D operator on ``EXPAND_DIMS(x, 1)`` (height 1) followed by a RESHAPE back.
Padding ``same`` is TFLite's SAME (output ``ceil(n / stride)``, the extra row at the end);
``causal`` (Conv1D) is a PAD of ``(k - 1) * dilation`` before a VALID convolution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from microforge.frontends.keras.activations import activate_layer
from microforge.frontends.keras.lowering import Layer, Lowering
from microforge.ir import Activation, Padding


def _pair(value: Any, rank: int = 2) -> tuple[int, ...]:
    if isinstance(value, (int, float)):
        return (int(value),) * rank
    return tuple(int(v) for v in value)


def _out_size(n: int, k: int, stride: int, dilation: int, same: bool) -> int:
    if same:
        return math.ceil(n / stride)
    return (n - (k - 1) * dilation - 1) // stride + 1


def _padding(layer: Layer, allowed: tuple[str, ...] = ("same", "valid")) -> str:
    padding = str(layer.get("padding", "valid")).lower()
    if padding not in allowed:
        raise layer.unsupported(f"padding {padding!r}")
    if layer.get("data_format", "channels_last") != "channels_last":
        raise layer.unsupported("data_format channels_first (save the model channels-last)")
    return padding


def _geometry(layer: Layer, x_shape: tuple[int, ...], kernel: tuple[int, int],
              one_d: bool) -> tuple[dict[str, Any], tuple[int, int]]:
    """TFLite conv options and the output (height, width) of a (1-D as 2-D) convolution."""
    padding = _padding(layer, ("same", "valid", "causal") if one_d else ("same", "valid"))
    strides = _pair(layer.get("strides", 1), 1 if one_d else 2)
    dilation = _pair(layer.get("dilation_rate", 1), 1 if one_d else 2)
    if one_d:
        strides, dilation = (1,) + strides, (1,) + dilation
    same = padding == "same"
    hw = tuple(_out_size(n, k, s, d, same)
               for n, k, s, d in zip(x_shape[1:3], kernel, strides, dilation))
    options = {"padding": Padding.SAME if same else Padding.VALID, "stride_h": strides[0],
               "stride_w": strides[1], "dilation_h_factor": dilation[0],
               "dilation_w_factor": dilation[1], "fused_activation_function": Activation.NONE}
    return options, hw


def _to_2d(lw: Lowering, layer: Layer, x: int) -> int:
    """(1, W, C) -> (1, 1, W, C), with the causal padding of a Conv1D first."""
    shape = lw.shape(x)
    if layer.get("padding") == "causal":
        k = _pair(layer.get("kernel_size"), 1)[0]
        left = (k - 1) * _pair(layer.get("dilation_rate", 1), 1)[0]
        padded = lw.value(f"{layer.name}/causal_pad", (shape[0], shape[1] + left, shape[2]))
        lw.op("PAD", [x, lw.ints(f"{layer.name}/paddings", [[0, 0], [left, 0], [0, 0]])], [padded])
        x, shape = padded, lw.shape(padded)
    y = lw.value(f"{layer.name}/expand", (shape[0], 1) + shape[1:])
    lw.op("EXPAND_DIMS", [x, lw.ints(f"{layer.name}/expand_axis", 1)], [y])
    return y


def _from_2d(lw: Lowering, layer: Layer, y: int, core: tuple[int, bool] | None) -> int:
    """(1, 1, W, C) -> (1, W, C)."""
    shape = lw.shape(y)
    out = lw.value(f"{layer.name}/squeeze", (shape[0],) + shape[2:])
    lw.op("RESHAPE", [y, lw.ints(f"{layer.name}/shape", (-1,) + shape[2:])], [out])
    if core is not None:
        lw.core[out] = core
    return out


def _bias(layer: Layer, weights: list[np.ndarray], channels: int) -> np.ndarray:
    if layer.get("use_bias", True) and weights:
        return weights[0]
    return np.zeros(channels, np.float32)


def _finish(lw: Lowering, layer: Layer, y: int, one_d: bool) -> int:
    if one_d:
        y = _from_2d(lw, layer, y, lw.core[y])
    return activate_layer(lw, layer, y)


def lower_conv(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """Conv1D / Conv2D: CONV_2D (EXPAND_DIMS / RESHAPE around it for 1-D)."""
    one_d = layer.cls == "Conv1D"
    if int(layer.get("groups", 1)) != 1:
        raise layer.unsupported("groups > 1")
    kernel = layer.weights[0]
    if one_d:
        kernel = kernel[None]
    x = _to_2d(lw, layer, xs[0]) if one_d else xs[0]
    options, (h, w) = _geometry(layer, lw.shape(x), kernel.shape[:2], one_d)
    out_ch = kernel.shape[3]
    y = lw.value(f"{layer.name}/conv" if one_d else layer.name, (lw.shape(x)[0], h, w, out_ch))
    inputs = [x, lw.const(f"{layer.name}/kernel", kernel.transpose(3, 0, 1, 2)),
              lw.const(f"{layer.name}/bias", _bias(layer, layer.weights[1:], out_ch))]
    lw.core[y] = (lw.op("CONV_2D", inputs, [y], **options), True)
    return [_finish(lw, layer, y, one_d)]


def _depthwise(lw: Lowering, layer: Layer, x: int, kernel: np.ndarray, bias: np.ndarray,
               name: str) -> int:
    kh, kw, cin, mult = kernel.shape
    options, (h, w) = _geometry(layer, lw.shape(x), (kh, kw), False)
    y = lw.value(name, (lw.shape(x)[0], h, w, cin * mult))
    inputs = [x, lw.const(f"{name}/depthwise_kernel", kernel.reshape(1, kh, kw, cin * mult)),
              lw.const(f"{name}/bias", bias)]
    lw.core[y] = (lw.op("DEPTHWISE_CONV_2D", inputs, [y], depth_multiplier=mult, **options), True)
    return y


def lower_depthwise(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """DepthwiseConv2D: DEPTHWISE_CONV_2D with its ``depth_multiplier``."""
    kernel = layer.weights[0]
    bias = _bias(layer, layer.weights[1:], kernel.shape[2] * kernel.shape[3])
    y = _depthwise(lw, layer, xs[0], kernel, bias, layer.name)
    return [_finish(lw, layer, y, False)]


def lower_separable(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """SeparableConv2D: DEPTHWISE_CONV_2D (no bias) then a 1x1 CONV_2D with the bias."""
    depthwise, pointwise = layer.weights[:2]
    mid = depthwise.shape[2] * depthwise.shape[3]
    d = _depthwise(lw, layer, xs[0], depthwise, np.zeros(mid, np.float32), f"{layer.name}/depthwise")
    out_ch = pointwise.shape[3]
    y = lw.value(layer.name, lw.shape(d)[:3] + (out_ch,))
    inputs = [d, lw.const(f"{layer.name}/pointwise_kernel", pointwise.transpose(3, 0, 1, 2)),
              lw.const(f"{layer.name}/bias", _bias(layer, layer.weights[2:], out_ch))]
    options = {"padding": Padding.VALID, "stride_h": 1, "stride_w": 1, "dilation_h_factor": 1,
               "dilation_w_factor": 1, "fused_activation_function": Activation.NONE}
    lw.core[y] = (lw.op("CONV_2D", inputs, [y], **options), True)
    return [_finish(lw, layer, y, False)]


def lower_pool(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """MaxPooling1D/2D, AveragePooling1D/2D: MAX_POOL_2D / AVERAGE_POOL_2D."""
    one_d = layer.cls.endswith("1D")
    padding = _padding(layer)
    size = _pair(layer.get("pool_size", 2), 1 if one_d else 2)
    strides = _pair(layer.get("strides") or size, 1 if one_d else 2)
    if one_d:
        size, strides = (1,) + size, (1,) + strides
    x = _to_2d(lw, layer, xs[0]) if one_d else xs[0]
    shape = lw.shape(x)
    hw = tuple(_out_size(n, k, s, 1, padding == "same") for n, k, s in zip(shape[1:3], size, strides))
    y = lw.value(f"{layer.name}/pool" if one_d else layer.name, (shape[0],) + hw + (shape[3],))
    opcode = "MAX_POOL_2D" if layer.cls.startswith("Max") else "AVERAGE_POOL_2D"
    index = lw.op(opcode, [x], [y], padding=Padding.SAME if padding == "same" else Padding.VALID,
                  stride_h=strides[0], stride_w=strides[1], filter_height=size[0],
                  filter_width=size[1], fused_activation_function=Activation.NONE)
    lw.core[y] = (index, False)
    return [_from_2d(lw, layer, y, None) if one_d else y]


def lower_zero_padding(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """ZeroPadding1D/2D: PAD."""
    spatial = 1 if layer.cls == "ZeroPadding1D" else 2
    padding = layer.get("padding", 1)
    if isinstance(padding, (int, float)):
        pads = [(int(padding), int(padding))] * spatial
    elif spatial == 1:
        pads = [tuple(int(v) for v in padding)]
    else:
        pads = [(int(p), int(p)) if isinstance(p, (int, float)) else tuple(int(v) for v in p)
                for p in padding]
    if layer.get("data_format", "channels_last") != "channels_last":
        raise layer.unsupported("data_format channels_first")
    rows = [(0, 0)] + pads + [(0, 0)]
    shape = lw.shape(xs[0])
    out = tuple(n + a + b for n, (a, b) in zip(shape, rows))
    y = lw.value(layer.name, out)
    lw.op("PAD", [xs[0], lw.ints(f"{layer.name}/paddings", rows)], [y])
    return [y]
