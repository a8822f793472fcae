"""TRANSPOSE as TFLM's ``transpose.cc`` (``reference_ops::Transpose``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.registry import Kernel, OpContext, register

_TYPES = (np.float32, np.int8, np.int16)
_MAX_DIMS = 5


@dataclass
class TransposeParams:
    """TRANSPOSE: ``perm``, output axis ``i`` is input axis ``perm[i]`` (tensor axes)."""

    perm: tuple[int, ...]


@register("TRANSPOSE")
class Transpose(Kernel):
    """Permute the axes: output axis ``i`` is input axis ``perm[i]``. As TFLM: rank 1 to 5,
    float32, int8 and int16 only, a constant int32 ``perm`` with one in-range entry per axis
    (microforge also requires a true permutation whose permuted input shape is the output shape).
    Values and quantization pass through unchanged.

    Tests: every permutation of 2-D to 4-D and a sample of 5-D ones, each dtype, rejection of
    non-constant perms, rank 6 and int32.
    """

    def prepare(self, ctx: OpContext) -> TransposeParams:
        x, perm_t, out = ctx.input(0), ctx.input(1), ctx.output()
        if x is None or perm_t is None:
            raise ctx.unsupported("needs input and perm")
        if x.dtype != out.dtype or x.dtype not in [np.dtype(t) for t in _TYPES]:
            raise ctx.unsupported(f"type {x.dtype} -> {out.dtype} is not supported")
        dims = len(x.shape)
        if dims > _MAX_DIMS:
            raise ctx.unsupported(f"rank {dims} > {_MAX_DIMS}")
        if not perm_t.is_constant:
            raise ctx.unsupported("perm must be constant")
        perm = tuple(int(p) for p in np.asarray(perm_t.data).reshape(-1))
        if len(perm_t.shape) != 1 or sorted(perm) != list(range(dims)):
            raise ctx.unsupported(f"perm {perm} is not a permutation of {dims} axes")
        if tuple(x.shape[p] for p in perm) != out.shape:
            raise ctx.unsupported(f"output shape {out.shape} is not the permuted input shape")
        return TransposeParams(perm)

    def eval(self, params: TransposeParams, inputs, ctx):
        return [np.transpose(inputs[0], (0,) + tuple(p + 1 for p in params.perm))]
