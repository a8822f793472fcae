"""Helpers shared by kernels: fused activation ranges and padding arithmetic, as TFLM computes them."""

from __future__ import annotations

import numpy as np

from microforge.ir import Tensor

# ActivationFunctionType values in the TFLite schema.
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6, ACT_TANH, ACT_SIGN_BIT = 0, 1, 2, 3, 4, 5

# Padding values in the TFLite schema.
PADDING_SAME, PADDING_VALID = 0, 1


def _round_half_away_f32(x: np.float32) -> int:
    x = float(x)
    return int(np.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def activation_range_quantized(activation: int, output: Tensor) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized``: the clamp range of a fused activation in the output's
    integer domain. Reproduces TFLM's float32 ``f / scale`` followed by ``std::round``."""
    info = np.iinfo(output.dtype)
    qmin, qmax = int(info.min), int(info.max)
    scale = np.float32(output.scale)
    zp = output.zero_point

    def quantize(f: float) -> int:
        return zp + _round_half_away_f32(np.float32(f) / scale)

    if activation == ACT_NONE:
        return qmin, qmax
    if activation == ACT_RELU:
        return max(qmin, quantize(0.0)), qmax
    if activation == ACT_RELU6:
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == ACT_RELU_N1_TO_1:
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    raise ValueError(f"fused activation {activation} is not supported on quantized tensors")


def activation_range_float(activation: int) -> tuple[float, float]:
    """``CalculateActivationRange<float>``."""
    inf = float(np.finfo(np.float32).max)
    if activation == ACT_NONE:
        return -inf, inf
    if activation == ACT_RELU:
        return 0.0, inf
    if activation == ACT_RELU6:
        return 0.0, 6.0
    if activation == ACT_RELU_N1_TO_1:
        return -1.0, 1.0
    raise ValueError(f"fused activation {activation} is not supported")


def compute_padding(
    padding: int, in_size: int, filter_size: int, stride: int, dilation: int = 1
) -> tuple[int, int]:
    """``ComputePaddingHeightWidth`` for one axis: (output size, padding before)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == PADDING_SAME:
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size - effective + stride) // stride
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2
