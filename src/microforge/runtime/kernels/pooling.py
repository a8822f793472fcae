"""AVERAGE_POOL_2D and MAX_POOL_2D, as TFLM's ``pooling.cc`` with ``reference/pooling.h`` (float)
and ``reference/integer_ops/pooling.h`` (int8, int16).

Windows are clipped to the image: padding cells are neither summed nor counted. Each filter tap is
one vectorized update over the output region where it lies inside the image, in TFLM's
(filter_y, filter_x) order, so the float32 sums are the same sequential sums as TFLM's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.kernels.common import activation_range_float, activation_range_quantized
from microforge.runtime.kernels.conv import Geometry
from microforge.runtime.registry import Kernel, OpContext, register


@dataclass
class PoolParams:
    """AVERAGE_POOL_2D / MAX_POOL_2D parameters (TFLM ``OpDataPooling``): the window
    ``geometry`` (filter size as the kernel, strides, TFLM's padding), the tensor ``dtype``, the
    fused-activation clamp ``low`` / ``high`` (float32 values, or the output's integer domain) and
    ``count``, the (out_h, out_w, 1) number of image cells under each window."""

    geometry: Geometry
    dtype: np.dtype
    low: float | int
    high: float | int
    count: np.ndarray


def _plan(ctx: OpContext) -> PoolParams:
    x, out = ctx.input(0), ctx.output()
    if len(x.shape) != 4 or len(out.shape) != 4 or out.shape[3] != x.shape[3]:
        raise ctx.unsupported("pooling needs 4-D input and output with the same depth")
    if x.dtype != out.dtype or x.dtype not in (np.float32, np.int8, np.int16):
        raise ctx.unsupported(f"{x.dtype} -> {out.dtype} pooling is not supported")
    options = ctx.options
    geometry = Geometry.of(options, x.shape, int(options.get("filter_height", 1)),
                           int(options.get("filter_width", 1)), out.shape)
    activation = int(options.get("fused_activation_function", 0))
    if x.dtype == np.float32:
        low, high = activation_range_float(activation)
    else:
        if abs(float(x.scale) - float(out.scale)) > 1e-6 or x.zero_point != out.zero_point:
            raise ctx.unsupported("quantized pooling needs equal input and output quantization")
        low, high = activation_range_quantized(activation, out)
    count = np.zeros((geometry.out_h, geometry.out_w, 1), np.int32)
    for fy, fx in geometry.taps:
        ys, xs = geometry.inside(fy, fx)
        count[ys, xs] += 1
    if not count.all():
        raise ctx.unsupported("a pooling window lies entirely outside the image")
    return PoolParams(geometry, x.dtype, low, high, count)


def _windows(plan: PoolParams, x: np.ndarray):
    """(view, output region) for each filter tap, in TFLM's order."""
    g = plan.geometry
    padded = g.pad(x)
    for fy, fx in g.taps:
        ys, xs = g.inside(fy, fx)
        yield g.tap(padded, fy, fx)[:, ys, xs], (slice(None), ys, xs)


def _float_clamp(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """``min(max(x, low), high)`` with std::max/std::min semantics (NaN passes through)."""
    low, high = np.float32(low), np.float32(high)
    x = np.where(x < low, low, x)
    return np.where(high < x, high, x)


def _average(plan: PoolParams, x: np.ndarray) -> np.ndarray:
    g = plan.geometry
    shape = (x.shape[0], g.out_h, g.out_w, x.shape[3])
    if plan.dtype == np.float32:
        total = np.zeros(shape, np.float32)
        for view, region in _windows(plan, x):
            total[region] += view
        return _float_clamp(total / plan.count.astype(np.float32), plan.low, plan.high)
    total = np.zeros(shape, np.int64)
    for view, region in _windows(plan, x):
        total[region] += view
    n = plan.count.astype(np.int64)
    half = n // 2
    # C division truncates toward zero: round half away from zero.
    mean = np.where(total > 0, (total + half) // n, -((half - total) // n))
    return np.clip(mean, plan.low, plan.high).astype(plan.dtype)


def _max(plan: PoolParams, x: np.ndarray) -> np.ndarray:
    g = plan.geometry
    shape = (x.shape[0], g.out_h, g.out_w, x.shape[3])
    if plan.dtype == np.float32:
        best = np.full(shape, np.finfo(np.float32).min, np.float32)
        for view, region in _windows(plan, x):
            current = best[region]
            best[region] = np.where(current < view, view, current)
        return _float_clamp(best, plan.low, plan.high)
    best = np.full(shape, np.iinfo(plan.dtype).min, plan.dtype)
    for view, region in _windows(plan, x):
        np.maximum(best[region], view, out=best[region])
    return np.clip(best, plan.low, plan.high).astype(plan.dtype)


def _run(fn, plan: PoolParams, x: np.ndarray) -> np.ndarray:
    batch = x.shape[0]
    y = fn(plan, x.reshape((-1,) + x.shape[2:]))
    return y.reshape((batch, -1) + y.shape[1:])


@register("AVERAGE_POOL_2D")
class AveragePool2D(Kernel):
    """AVERAGE_POOL_2D for float32, int8 and int16. Integer: sum of the image cells under the
    window (int64 here, equal to TFLM's int32 sum below 65536 cells), then ``(sum + n/2) / n``
    for positive sums and ``(sum - n/2) / n`` otherwise with C's truncating division (halves
    round away from zero), clamped to the fused activation range.
    Float32: sequential float32 sum, divided by the float count, then the clamp.

    Tests: SAME/VALID, strides 1/2, windows clipped at every border, each fused activation, all
    three types, and the AVERAGE_POOL_2D of person_detect.
    """

    def prepare(self, ctx: OpContext) -> PoolParams:
        return _plan(ctx)

    def eval(self, params, inputs, ctx):
        return [_run(_average, params, inputs[0])]


@register("MAX_POOL_2D")
class MaxPool2D(Kernel):
    """MAX_POOL_2D for float32, int8 and int16: the running maximum starts at the type's lowest
    value and takes ``std::max`` over the image cells (a NaN never replaces it), then the fused
    activation clamp.

    Tests: SAME/VALID, strides 1/2, clipped windows, each fused activation, all three types
    (float inputs include NaN, infinities and signed zeros).
    """

    def prepare(self, ctx: OpContext) -> PoolParams:
        return _plan(ctx)

    def eval(self, params, inputs, ctx):
        return [_run(_max, params, inputs[0])]
