"""CAST as TFLM's ``cast.cc``: ``static_cast<ToT>`` of every element."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.registry import Kernel, OpContext, register

_FROM = (np.int8, np.int16, np.int32, np.uint32, np.float32, np.bool_)
_TO = (np.int8, np.int16, np.int32, np.uint32, np.float32)


@dataclass
class CastParams:
    """CAST: ``dtype``, the output type."""

    dtype: np.dtype


def _float_to_int(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float32 to an integer type as the tflite-micro build used as oracle converts (measured):
    truncation toward zero, saturating at the type's limits (so negative values give 0 in uint32),
    NaN gives 0. (Older TFLM sources use a plain ``static_cast``, undefined out of range.)"""
    info = np.iinfo(dtype)
    t = np.nan_to_num(np.trunc(x.astype(np.float64)), nan=0.0)
    return np.clip(t, info.min, info.max).astype(dtype)


@register("CAST")
class Cast(Kernel):
    """Element type conversion. From int8, int16, int32, uint32, float32, bool to int8, int16,
    int32, uint32, float32 (TFLM's set). Integer narrowing wraps; integers convert to float32 with
    round-to-nearest-even; float32 to integers truncates toward zero and saturates, NaN giving 0
    (see ``_float_to_int``). Quantization parameters are ignored, as in TFLM.

    Tests: every supported (from, to) pair over the full input range, float specials (NaN, inf,
    +-0, huge and fractional values), the audio preprocessor's casts.
    """

    def prepare(self, ctx: OpContext) -> CastParams:
        src, dst = ctx.input(0).dtype, ctx.output().dtype
        if src not in [np.dtype(t) for t in _FROM] or dst not in [np.dtype(t) for t in _TO]:
            raise ctx.unsupported(f"CAST {src} -> {dst} is not supported")
        if ctx.input(0).size != ctx.output().size:
            raise ctx.unsupported("input and output sizes differ")
        return CastParams(np.dtype(dst))

    def eval(self, params: CastParams, inputs, ctx):
        x = inputs[0]
        x = x.reshape((x.shape[0],) + ctx.output().shape)
        if x.dtype == np.float32 and params.dtype != np.float32:
            return [_float_to_int(x, params.dtype)]
        return [x.astype(params.dtype)]
