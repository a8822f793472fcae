"""Reductions: MEAN, SUM, REDUCE_MAX, REDUCE_MIN as TFLM's ``reduce.cc`` / ``reduce_common.cc``.

The axis tensor must be constant. Axes are resolved as ``ResolveAxis`` does (negative axes count
from the end, duplicates dropped). In ``eval`` the kept axes are moved before the reduced ones and
the input is viewed as ``(B, kept, reduced)``; the output layout is the kept axes in order, with or
without ``keep_dims`` (which only changes the output tensor's shape).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32
from microforge.runtime.registry import Kernel, OpContext, register

F32_LOWEST = np.float32(np.finfo(np.float32).min)
F32_MAX = np.float32(np.finfo(np.float32).max)


@dataclass
class ReduceParams:
    """MEAN / SUM / REDUCE_MAX / REDUCE_MIN parameters (TFLM ``OpDataReduce``): ``perm`` moves the
    reduced axes last (batch axis included); ``kept`` is the number of outputs; ``n`` the number of
    reduced elements per output; ``kind`` "float" or "int"; ``zp_in`` / ``zp_out`` the zero points
    and ``m`` the Q31 (multiplier, shift) of the integer MEAN / SUM rescaling."""

    perm: tuple[int, ...]
    kept: int
    n: int
    kind: str
    zp_in: int = 0
    zp_out: int = 0
    m: tuple[int, int] = (0, 0)


def _prepare(ctx: OpContext, dtypes: tuple[type, ...]) -> ReduceParams:
    x, axis_t, out = ctx.input(0), ctx.input(1), ctx.output()
    if x is None or axis_t is None:
        raise ctx.unsupported("needs input and axis")
    if x.dtype != out.dtype or x.dtype not in [np.dtype(t) for t in dtypes]:
        raise ctx.unsupported(f"type {x.dtype} -> {out.dtype} is not supported")
    if axis_t.dtype != np.int32 or not axis_t.is_constant:
        raise ctx.unsupported("axis must be a constant int32 tensor")
    rank = len(x.shape)
    axes: list[int] = []
    for a in np.asarray(axis_t.data).reshape(-1):
        a = int(a) + rank if int(a) < 0 else int(a)
        if not 0 <= a < rank:
            raise ctx.unsupported(f"axis {a} out of range for rank {rank}")
        if a not in axes:
            axes.append(a)
    kept = [k for k in range(rank) if k not in axes]
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    kept_size = int(np.prod([x.shape[k] for k in kept], dtype=np.int64))
    if kept_size != out.size:
        raise ctx.unsupported(f"output shape {out.shape} does not fit the reduction")
    perm = (0,) + tuple(k + 1 for k in kept) + tuple(a + 1 for a in sorted(axes))
    return ReduceParams(perm, kept_size, n, "float" if x.dtype == np.float32 else "int",
                  x.zero_point, out.zero_point)


def _view(params: ReduceParams, x: np.ndarray) -> np.ndarray:
    return np.transpose(x, params.perm).reshape(x.shape[0], params.kept, params.n)


def _float_sum(v: np.ndarray) -> np.ndarray:
    """Sequential float32 sum over the last axis, starting from 0.0f, as TFLM's reducer loop
    (``np.cumsum`` accumulates in order; adding 0.0f turns a -0.0 total into TFLM's +0.0)."""
    if v.shape[-1] == 0:
        return np.zeros(v.shape[:-1], np.float32)
    with np.errstate(all="ignore"):
        return np.cumsum(v, axis=-1, dtype=np.float32)[..., -1] + np.float32(0)


def _int_result(params: ReduceParams, sums: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``QuantizedMeanOrSum``: int32 sum minus ``zp_in * n``, rescaled, offset and clamped."""
    shifted = wrap_int32(wrap_int32(sums) - params.zp_in * params.n)
    out = multiply_by_quantized_multiplier(shifted, *params.m) + params.zp_out
    info = np.iinfo(dtype)
    return np.clip(out, info.min, info.max).astype(dtype)


class _MeanOrSum(Kernel):
    mean = True

    def prepare(self, ctx: OpContext) -> ReduceParams:
        p = _prepare(ctx, (np.float32, np.int8, np.int16))
        if p.kind == "int":
            real = float(np.float32(ctx.input(0).scale)) / float(np.float32(ctx.output().scale))
            q, shift = quantize_multiplier(real)
            if self.mean and p.n > 0:
                # fold 1/n into the multiplier, exactly as TFLM does at every Eval
                s = min(p.n.bit_length() - 1, 32, 31 + shift)
                q, shift = ((q << s) // p.n), shift - s
            p.m = (q, shift)
        return p

    def eval(self, params: ReduceParams, inputs, ctx):
        x = inputs[0]
        v = _view(params, x)
        if params.kind == "float":
            out = _float_sum(v)
            if self.mean and params.n > 0:
                out = out / np.float32(params.n)
        else:
            out = _int_result(params, v.astype(np.int64).sum(axis=-1), x.dtype)
        return [out.reshape((x.shape[0],) + ctx.output().shape)]


@register("MEAN")
class Mean(_MeanOrSum):
    """MEAN as TFLM's ``EvalMeanHelper``.

    * float32: the sum in input (row-major) order in float32 starting from 0.0f, divided by the
      float32 element count (the 4-D spatial special case sums in the same order).
    * int8 / int16: ``QuantizedMeanOrSum``: the int32 sum minus ``zp_in * n``, multiplied by the
      ``s_in / s_out`` multiplier with 1/n folded in (``m << s) / n``, ``s = min(floor(log2 n), 32,
      31 + shift)``, shift lowered by ``s``), ``MultiplyByQuantizedMultiplier`` (int32, double
      rounding), plus ``zp_out``, clamped. Works for any input and output quantization.

    Tests: keep_dims true/false, spatial and other axes, negative and duplicate axes, all axes,
    each dtype, equal and different input/output quantization.
    """

    mean = True


@register("SUM")
class Sum(_MeanOrSum):
    """SUM as TFLM's ``EvalSumHelper``: float32 sequential sum from 0.0f; int8 / int16 as MEAN
    without the 1/n factor (``QuantizedMeanOrSum`` with ``compute_sum``). Tests as MEAN."""

    mean = False


class _MinMax(Kernel):
    largest = True

    def prepare(self, ctx: OpContext) -> ReduceParams:
        p = _prepare(ctx, (np.float32, np.int8))
        x, out = ctx.input(0), ctx.output()
        if x.dtype == np.int8 and (
            np.float32(x.scale) != np.float32(out.scale) or x.zero_point != out.zero_point
        ):
            raise ctx.unsupported("int8 REDUCE_MAX/MIN needs equal input and output quantization")
        return p

    def eval(self, params: ReduceParams, inputs, ctx):
        x = inputs[0]
        v = _view(params, x)
        if params.kind == "int":
            init = np.iinfo(x.dtype).min if self.largest else np.iinfo(x.dtype).max
            out = v.max(axis=-1, initial=init) if self.largest else v.min(axis=-1, initial=init)
        else:
            out = self._float(v)
        return [out.reshape((x.shape[0],) + ctx.output().shape)]

    def _float(self, v: np.ndarray) -> np.ndarray:
        """TFLM's ``(in > current) ? in : current`` from ``lowest()`` (``<`` and ``max()`` for
        MIN): NaN never wins, the result never passes the finite float32 range, and among equal
        values (+0.0 / -0.0) the first in input order is kept."""
        init = F32_LOWEST if self.largest else F32_MAX
        filler = -np.inf if self.largest else np.inf
        clean = np.where(np.isnan(v), np.float32(filler), v)
        best = clean.max(axis=-1, initial=init) if self.largest else clean.min(axis=-1, initial=init)
        hit = clean == best[..., None]
        first = np.take_along_axis(v, np.argmax(hit, axis=-1)[..., None], axis=-1)[..., 0]
        return np.where(hit.any(axis=-1), first, best).astype(np.float32)


@register("REDUCE_MAX")
class ReduceMax(_MinMax):
    """REDUCE_MAX as TFLM's ``EvalMaxHelper``: float32 and int8 (int8 requires equal input and
    output quantization). Tests: axes and keep_dims, float specials, int8."""

    largest = True


@register("REDUCE_MIN")
class ReduceMin(_MinMax):
    """REDUCE_MIN as TFLM's ``EvalMinHelper``; see REDUCE_MAX."""

    largest = False
