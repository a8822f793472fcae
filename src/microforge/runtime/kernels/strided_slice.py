"""STRIDED_SLICE as TFLM's ``strided_slice.cc`` with ``reference_ops::StridedSlice``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from microforge.runtime.registry import Kernel, OpContext, register

_TYPES = (np.float32, np.int8, np.int16, np.int32, np.bool_)
_MAX_DIMS = 4
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1


@dataclass
class Masks:
    """``begin_mask``, ``end_mask`` and ``shrink_axis_mask`` (bit k: axis k)."""

    begin: int
    end: int
    shrink: int


@dataclass
class StridedSliceParams:
    """STRIDED_SLICE: ``indices``, per input axis the input indices Eval visits in order (intp
    arrays; the output is their row-major product, shrunk axes dropped)."""

    indices: list[np.ndarray]


def _clamp(v: int, lo: int, hi: int) -> int:
    return min(max(v, lo), hi)


def _eval_range(size: int, begin: int, end: int, stride: int, m: Masks, axis: int) -> range:
    """``StridedSliceStartForAxis`` / ``StridedSliceEndForAxis``: the indices Eval visits."""
    start = begin + size if begin < 0 else begin
    start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
    if m.begin >> axis & 1:
        start = 0 if stride > 0 else size - 1
    if m.shrink >> axis & 1:
        stop = start if start >= size else start + 1
    else:
        stop = end + size if end < 0 else end
        stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
        if m.end >> axis & 1:
            stop = size if stride > 0 else -1
    return range(start, stop, stride)


def prepare_dim(size: int, begin: int, end: int, stride: int, m: Masks, axis: int) -> int:
    """The output extent Prepare's ``CheckOutputSize`` expects (``StartForAxis`` /
    ``StopForAxis``, ``ceil((stop - start) / float(stride))``)."""
    if size == 0:
        start = stop = 0
    else:
        start = begin
        if m.begin >> axis & 1:
            start = INT_MIN if stride > 0 else INT_MAX
        start = start + size if start < 0 else start
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        stop = end
        if m.end >> axis & 1:
            stop = INT_MAX if stride > 0 else INT_MIN
        stop = stop + size if stop < 0 else stop
        stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
    if m.shrink >> axis & 1:
        stop = start + 1
    return max(math.ceil(float(np.float32(stop - start) / np.float32(stride))), 0)


@register("STRIDED_SLICE")
class StridedSlice(Kernel):
    """Strided slicing with TFLM's index rules: negative begin/end count from the end, clamping to
    ``[0, size]`` (``[-1, size-1]`` for negative strides), ``begin_mask`` / ``end_mask`` selecting
    the full range, ``shrink_axis_mask`` taking one element and dropping the axis. TFLM forces
    ``ellipsis_mask`` and ``new_axis_mask`` to 0 and ignores ``offset``; microforge does the same, so
    such a model runs only when its output shape is the one the masks-off slice gives (TFLM's
    Prepare checks it). Begin, end and strides must be constant; rank <= 4; float32, int8, int16,
    int32, bool. Values (and quantization) pass through unchanged. A shrunk axis with a negative
    stride (or a begin beyond the axis) makes TFLM's Eval write nothing, leaving arena garbage in
    the output; microforge refuses such models.

    Tests: every mask, negative begin/end/strides, out-of-range indices, 1-D to 4-D, each dtype,
    the audio preprocessor's op, rejection of non-constant indices and mismatched output shapes.
    """

    def prepare(self, ctx: OpContext) -> StridedSliceParams:
        x, out = ctx.input(0), ctx.output()
        if len(ctx.op.inputs) != 4 or any(t is None for t in ctx.inputs):
            raise ctx.unsupported("needs input, begin, end and strides")
        if x.dtype != out.dtype or x.dtype not in [np.dtype(t) for t in _TYPES]:
            raise ctx.unsupported(f"type {x.dtype} -> {out.dtype} is not supported")
        dims = len(x.shape)
        if dims > _MAX_DIMS:
            raise ctx.unsupported(f"rank {dims} > {_MAX_DIMS}")
        vectors = []
        for t in ctx.inputs[1:]:
            if not t.is_constant:
                raise ctx.unsupported("begin, end and strides must be constant")
            v = np.asarray(t.data).reshape(-1)
            if t.dtype != np.int32 or v.size < dims:
                raise ctx.unsupported("begin, end and strides must be int32 with one entry per axis")
            vectors.append([int(a) for a in v[:dims]])
        begin, end, strides = vectors
        if 0 in strides:
            raise ctx.unsupported("stride 0")
        o = ctx.options
        m = Masks(int(o.get("begin_mask", 0)), int(o.get("end_mask", 0)),
                  int(o.get("shrink_axis_mask", 0)))
        expected = [prepare_dim(x.shape[k], begin[k], end[k], strides[k], m, k)
                    for k in range(dims) if not m.shrink >> k & 1]
        if tuple(expected) != out.shape:
            raise ctx.unsupported(f"output shape {out.shape} is not the slice's {tuple(expected)}")
        ranges = [_eval_range(x.shape[k], begin[k], end[k], strides[k], m, k) for k in range(dims)]
        if math.prod(len(r) for r in ranges) != out.size:
            raise ctx.unsupported("the slice does not fill the output")
        return StridedSliceParams([np.array(r, dtype=np.intp) for r in ranges])

    def eval(self, params: StridedSliceParams, inputs, ctx):
        x = inputs[0]
        for axis, idx in enumerate(params.indices):
            if len(idx) != x.shape[axis + 1] or np.any(idx != np.arange(len(idx))):
                x = np.take(x, idx, axis=axis + 1)
        return [x.reshape((x.shape[0],) + ctx.output().shape)]
