"""Weight, bias and activation-parameter quantization.

Weights are int8, symmetric (zero point 0) in [-127, 127], per channel along the operator's output
channel axis or per tensor. Biases are int32 (int64 for 16x8) with scale ``input_scale *
weight_scale`` per channel and zero point 0; a channel's weight scale is raised when its bias would
not fit the bias type. Activations are asymmetric int8 (the range nudged so zero is exact) or
symmetric int16 with zero point 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microforge.ir.quant import QuantParams


@dataclass
class QuantizedLayer:
    weights: np.ndarray
    weight_quant: QuantParams
    bias: np.ndarray | None
    bias_quant: QuantParams | None


def activation_params(lo: float, hi: float, int16: bool) -> tuple[float, int]:
    """(scale, zero point) of an activation with range [lo, hi] (which contains 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if int16:
        bound = max(-lo, hi)
        return (bound / 32767.0 if bound > 0 else 1.0 / 32767.0), 0
    if hi - lo <= 0:
        return 1.0 / 255.0, -128
    scale = (hi - lo) / 255.0
    zero_point = -128.0 - lo / scale
    return scale, int(np.clip(np.round(zero_point), -128, 127))


def quantize_values(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    q = np.round(x.astype(np.float64) / np.float32(scale)) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


Tune = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], tuple[np.ndarray, "np.ndarray | None"]]


def quantize_layer(weights: np.ndarray, bias: np.ndarray | None, axis: int, per_channel: bool,
                   input_scale: float, bias_dtype, tune: Tune | None = None) -> QuantizedLayer:
    """Symmetric int8 weights along ``axis`` and the matching integer bias. ``tune(weights,
    scale, bias)`` (scale per output channel), when given, returns the int8 weights and the float
    bias to use instead of rounding to nearest (bias correction, learned rounding)."""
    w = weights.astype(np.float64)
    channels = w.shape[axis]
    moved = np.moveaxis(w, axis, 0).reshape(channels, -1)
    amax = np.abs(moved).max(axis=1) if moved.size else np.zeros(channels)
    if not per_channel:
        amax = np.full(channels, amax.max() if amax.size else 0.0)
    scale = amax / 127.0
    b = None if bias is None else bias.astype(np.float64).reshape(channels)
    limit = float(np.iinfo(bias_dtype).max)
    if b is not None:  # bias / (input_scale * weight_scale) must fit the bias type
        scale = np.maximum(scale, np.abs(b) / (input_scale * limit) * 1.01)
    positive = scale[scale > 0]
    scale = np.where(scale > 0, scale, positive.min() if positive.size else 1.0)
    if not per_channel:
        scale = np.full(channels, scale.max())
    scale = scale.astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = channels
    q = np.clip(np.round(w / scale.astype(np.float64).reshape(shape)), -127, 127).astype(np.int8)
    if tune is not None:
        q, b = tune(w, scale, b)
    n = channels if per_channel else 1
    weight_quant = QuantParams(scale=scale[:n], zero_point=np.zeros(n, np.int64),
                               axis=axis if per_channel else 0)
    q_bias, bias_quant = None, None
    if b is not None:
        bias_scale = (np.float32(input_scale) * scale).astype(np.float64)
        q_bias = np.clip(np.round(b / bias_scale), -limit, limit).astype(bias_dtype)
        bias_quant = QuantParams(scale=bias_scale.astype(np.float32)[:n],
                                 zero_point=np.zeros(n, np.int64), axis=0)
    return QuantizedLayer(q, weight_quant, q_bias, bias_quant)
