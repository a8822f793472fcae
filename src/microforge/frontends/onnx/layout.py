"""Layout permutations. A lowered ONNX value lives in the IR as ``ir = onnx.transpose(perm)``;
these helpers compose, invert and apply such permutations."""

from __future__ import annotations

import numpy as np

Perm = tuple[int, ...]


def identity(rank: int) -> Perm:
    return tuple(range(rank))


def channels_last(rank: int) -> Perm:
    """NCHW -> NHWC for any rank >= 3: (0, 2, ..., rank - 1, 1)."""
    return (0, *range(2, rank), 1) if rank >= 3 else identity(rank)


def inverse(perm: Perm) -> Perm:
    return tuple(int(i) for i in np.argsort(perm))


def permute(shape: tuple[int, ...], perm: Perm) -> tuple[int, ...]:
    """The IR shape of an ONNX shape laid out by ``perm``."""
    return tuple(shape[p] for p in perm)


def between(have: Perm, want: Perm) -> Perm:
    """The TRANSPOSE permutation turning an IR tensor laid out by ``have`` into one laid out by
    ``want`` (``onnx.transpose(have).transpose(r) == onnx.transpose(want)``)."""
    inv = inverse(have)
    return tuple(inv[w] for w in want)


def after_transpose(perm: Perm, onnx_perm: Perm) -> Perm:
    """The layout of ``Transpose(x, onnx_perm)`` when ``x`` is laid out by ``perm``: the same IR
    tensor, seen through the transpose, so no operator is needed."""
    inv = inverse(onnx_perm)
    return tuple(inv[p] for p in perm)


def ir_axis(perm: Perm, axis: int) -> int:
    """The IR axis holding ONNX axis ``axis`` (already non-negative)."""
    return perm.index(axis)


def reshape_layout(in_shape: tuple[int, ...], perm: Perm, out_shape: tuple[int, ...]) -> bool:
    """True when a reshape can read the IR tensor as it is: the dimensions other than 1 appear
    in the IR in their ONNX order, so the elements are in ONNX (row-major) order already
    (e.g. NCHW -> (N, C) with a 1x1 spatial size)."""
    order = [p for p in perm if in_shape[p] != 1]
    return order == sorted(order)


def drop_axes(perm: Perm, axes: set[int]) -> Perm:
    """The layout left when size-1 ONNX ``axes`` are removed (squeeze, keepdims=0)."""
    kept = [p for p in perm if p not in axes]
    rank = sorted(kept)
    return tuple(rank.index(p) for p in kept)


def insert_axes(perm: Perm, axes: list[int]) -> Perm:
    """The layout after inserting size-1 ONNX ``axes`` (positions in the output): each new axis
    goes right after the IR position of the ONNX axis before it (first for axis 0)."""
    out_rank = len(perm) + len(axes)
    old = [a for a in range(out_rank) if a not in axes]  # output axis of each input axis
    result = [old[p] for p in perm]
    for a in sorted(axes):
        if a == 0:
            result.insert(0, a)
            continue
        prev = a - 1
        result.insert(result.index(prev) + 1, a)
    return tuple(result)
