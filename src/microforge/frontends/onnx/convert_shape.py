"""Shape and data-movement operators, reductions and slicing.

Squeeze / Unsqueeze and Transpose keep their input's layout (no data moves); Reshape and
Flatten keep it when the non-unit dimensions are already in ONNX order in the IR (e.g. NCHW with
a 1x1 spatial size), else a TRANSPOSE to the ONNX layout comes first (Flatten after an NCHW
convolution needs the NCHW element order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from microforge.frontends.onnx.attrs import attrs
from microforge.frontends.onnx.context import Context, Value
from microforge.frontends.onnx.layout import (
    after_transpose,
    drop_axes,
    identity,
    insert_axes,
    permute,
    reshape_layout,
)
from microforge.frontends.onnx.registry import converter


def reshape(ctx: Context, source: str, name: str, out_shape: tuple[int, ...],
            perm: tuple[int, ...] | None = None) -> None:
    """RESHAPE ``source`` to ONNX ``out_shape`` laid out by ``perm`` (identity by default)."""
    v = ctx.value(source)
    perm = identity(len(out_shape)) if perm is None else perm
    if tuple(out_shape) == v.shape and perm == v.perm:
        ctx.values[name] = v
        return
    same_order = reshape_layout(v.shape, v.perm, out_shape) if perm == identity(len(perm)) else True
    x = ctx.tensor(source, v.perm if same_order else identity(len(v.shape)))
    out = ctx.define(name, out_shape, perm)
    ctx.op("RESHAPE", [x, ctx.int32(f"{name}/shape", ctx.ir_shape(out))], [out],
           new_shape=list(ctx.ir_shape(out)))


def _axes(ctx: Context, node: Any, rank: int) -> list[int] | None:
    """Axes from the attribute (older opsets) or the second input; None when absent."""
    a = attrs(node)
    if "axes" in a:
        axes = a["axes"]
    elif len(node.input) > 1 and node.input[1]:
        axes = ctx.need_const(node.input[1], "axes").reshape(-1).tolist()
    else:
        return None
    return sorted(int(x) % rank for x in axes)


@converter("Reshape")
def reshape_node(ctx: Context, node: Any) -> None:
    v = ctx.value(node.input[0])
    target = [int(d) for d in ctx.need_const(node.input[1], "the Reshape shape").reshape(-1)]
    if not int(attrs(node).get("allowzero", 0)):
        target = [v.shape[i] if d == 0 else d for i, d in enumerate(target)]
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1]))
        target[target.index(-1)] = int(np.prod(v.shape)) // max(known, 1)
    reshape(ctx, node.input[0], node.output[0], tuple(target))


@converter("Flatten")
def flatten(ctx: Context, node: Any) -> None:
    v = ctx.value(node.input[0])
    axis = int(attrs(node).get("axis", 1)) % (len(v.shape) + 1)
    shape = (int(np.prod(v.shape[:axis])), int(np.prod(v.shape[axis:])))
    reshape(ctx, node.input[0], node.output[0], shape)


@converter("Squeeze")
def squeeze(ctx: Context, node: Any) -> None:
    v = ctx.value(node.input[0])
    axes = _axes(ctx, node, len(v.shape))
    if axes is None:
        axes = [i for i, d in enumerate(v.shape) if d == 1]
    shape = tuple(d for i, d in enumerate(v.shape) if i not in axes)
    reshape(ctx, node.input[0], node.output[0], shape, drop_axes(v.perm, set(axes)))


@converter("Unsqueeze")
def unsqueeze(ctx: Context, node: Any) -> None:
    v = ctx.value(node.input[0])
    rank = len(v.shape) + len(ctx.need_const(node.input[1], "axes").reshape(-1)
                              if len(node.input) > 1 else attrs(node)["axes"])
    axes = _axes(ctx, node, rank) or []
    shape = list(v.shape)
    for a in axes:
        shape.insert(a, 1)
    reshape(ctx, node.input[0], node.output[0], tuple(shape), insert_axes(v.perm, axes))


@converter("Transpose")
def transpose(ctx: Context, node: Any) -> None:
    """No operator: the output is the same IR tensor seen through the permutation."""
    v = ctx.value(node.input[0])
    p = tuple(int(i) for i in attrs(node).get("perm", range(len(v.shape))[::-1]))
    ctx.values[node.output[0]] = Value(permute(v.shape, p), index=v.index,
                                       perm=after_transpose(v.perm, p))


@converter("Identity", "Dropout")
def identity_node(ctx: Context, node: Any) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise ctx.unsupported("the mask output of Dropout")
    ctx.alias(node.output[0], node.input[0])


@converter("Cast")
def cast(ctx: Context, node: Any) -> None:
    from onnx import TensorProto
    if int(attrs(node)["to"]) != TensorProto.FLOAT:
        raise ctx.unsupported("a Cast of a run-time tensor to a type other than float32")
    ctx.alias(node.output[0], node.input[0])


@converter("Shape")
def shape_node(ctx: Context, node: Any) -> None:
    a = attrs(node)
    shape = ctx.value(node.input[0]).shape
    ctx.set_const(node.output[0], np.array(shape[a.get("start", 0):a.get("end", len(shape))],
                                           np.int64))


@converter("Concat")
def concat(ctx: Context, node: Any) -> None:
    names = [n for n in node.input if n]
    shapes = [ctx.value(n).shape for n in names]
    rank = len(shapes[0])
    axis = int(attrs(node)["axis"]) % rank
    acts = [ctx.value(n) for n in names if ctx.const(n) is None]
    perm = acts[0].perm if acts else identity(rank)
    ins = [ctx.tensor(n, perm) for n in names]
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    out = ctx.define(node.output[0], tuple(out_shape), perm)
    ctx.op("CONCATENATION", ins, [out], axis=perm.index(axis))


@converter("Pad")
def pad(ctx: Context, node: Any) -> None:
    a = attrs(node)
    mode = a.get("mode", "constant")
    if mode != "constant":
        raise ctx.unsupported(f"Pad mode '{mode}' (the runtime has no MIRROR_PAD kernel; "
                              "constant padding only)")
    v = ctx.value(node.input[0])
    rank = len(v.shape)
    pads = [int(p) for p in (a["pads"] if "pads" in a else ctx.need_const(node.input[1], "pads"))]
    axes = list(range(rank))
    if len(node.input) > 3 and node.input[3]:
        axes = [int(x) % rank for x in ctx.need_const(node.input[3], "axes").reshape(-1)]
    begin, end = [0] * rank, [0] * rank
    for k, axis in enumerate(axes):
        begin[axis], end[axis] = pads[k], pads[k + len(axes)]
    if min(begin + end) < 0:
        raise ctx.unsupported("negative pads (cropping)")
    value = float(a.get("value", 0.0))
    if len(node.input) > 2 and node.input[2]:
        value = float(ctx.need_const(node.input[2], "the pad value").reshape(-1)[0])
    shape = tuple(d + b + e for d, b, e in zip(v.shape, begin, end))
    out = ctx.define(node.output[0], shape, v.perm)
    paddings = ctx.int32(f"{node.output[0]}/paddings", [[begin[p], end[p]] for p in v.perm])
    x = ctx.tensor(node.input[0], v.perm)
    if value == 0.0:
        ctx.op("PAD", [x, paddings], [out])
    else:
        ctx.op("PADV2", [x, paddings, ctx.float32(f"{node.output[0]}/value", [value])], [out])


_REDUCE = {"ReduceMean": "MEAN", "ReduceMax": "REDUCE_MAX", "ReduceSum": "SUM"}


@converter(*_REDUCE)
def reduce(ctx: Context, node: Any) -> None:
    """MEAN / REDUCE_MAX / SUM over the IR axes holding ONNX ``axes`` (attribute before opset
    18, input since)."""
    a = attrs(node)
    v = ctx.value(node.input[0])
    rank = len(v.shape)
    axes = _axes(ctx, node, rank)
    if not axes:
        if int(a.get("noop_with_empty_axes", 0)):
            ctx.alias(node.output[0], node.input[0])
            return
        axes = list(range(rank))
    keep = bool(int(a.get("keepdims", 1)))
    shape = tuple(1 if i in axes else d for i, d in enumerate(v.shape))
    perm = v.perm
    if not keep:
        shape = tuple(d for i, d in enumerate(v.shape) if i not in axes)
        perm = drop_axes(v.perm, set(axes))
    out = ctx.define(node.output[0], shape, perm)
    ir_axes = ctx.int32(f"{node.output[0]}/axes", sorted(v.perm.index(x) for x in axes))
    ctx.op(_REDUCE[node.op_type], [ctx.tensor(node.input[0], v.perm), ir_axes], [out],
           keep_dims=keep)


def strided_slice(ctx: Context, source: str, name: str, bounds: dict[int, tuple[int, int, int]],
                  shrink: set[int] = frozenset()) -> None:
    """STRIDED_SLICE of ONNX axes ``bounds`` (axis -> python slice indices); ``shrink`` axes
    take one element and are dropped."""
    v = ctx.value(source)
    begin, end, strides, end_mask, shrink_mask = [], [], [], 0, 0
    shape = list(v.shape)
    for j, axis in enumerate(v.perm):
        b, e, s = bounds.get(axis, (0, v.shape[axis], 1))
        if e < 0:  # a negative stride running through index 0
            end_mask |= 1 << j
        begin.append(b)
        end.append(e)
        strides.append(s)
        shape[axis] = len(range(b, e, s))
        if axis in shrink:
            shrink_mask |= 1 << j
    perm = v.perm
    if shrink:
        shape = [d for i, d in enumerate(shape) if i not in shrink]
        perm = drop_axes(v.perm, set(shrink))
    out = ctx.define(name, tuple(shape), perm)
    ctx.op("STRIDED_SLICE", [ctx.tensor(source, v.perm), ctx.int32(f"{name}/begin", begin),
                             ctx.int32(f"{name}/end", end), ctx.int32(f"{name}/strides", strides)],
           [out], begin_mask=0, end_mask=end_mask, shrink_axis_mask=shrink_mask,
           ellipsis_mask=0, new_axis_mask=0)


@converter("Slice")
def slice_node(ctx: Context, node: Any) -> None:
    v = ctx.value(node.input[0])
    rank = len(v.shape)
    starts, ends = (ctx.need_const(n, "Slice bounds").reshape(-1) for n in node.input[1:3])
    axes = (ctx.need_const(node.input[3], "Slice axes").reshape(-1)
            if len(node.input) > 3 and node.input[3] else range(len(starts)))
    steps = (ctx.need_const(node.input[4], "Slice steps").reshape(-1)
             if len(node.input) > 4 and node.input[4] else [1] * len(starts))
    bounds = {}
    for start, stop, axis, step in zip(starts, ends, axes, steps):
        axis = int(axis) % rank
        bounds[axis] = slice(int(start), int(stop), int(step)).indices(v.shape[axis])
    strided_slice(ctx, node.input[0], node.output[0], bounds)


@converter("Gather")
def gather(ctx: Context, node: Any) -> None:
    """Gather of a run-time tensor by a constant scalar index (``x[:, -1]``) or a constant run of
    consecutive indices: STRIDED_SLICE."""
    v = ctx.value(node.input[0])
    axis = int(attrs(node).get("axis", 0)) % len(v.shape)
    idx = ctx.need_const(node.input[1], "Gather indices").astype(np.int64)
    flat = np.where(idx < 0, idx + v.shape[axis], idx).reshape(-1)
    if idx.ndim > 1 or flat.size == 0 or np.any(np.diff(flat) != 1):
        raise ctx.unsupported("Gather indices other than a scalar or a consecutive run")
    bounds = {axis: (int(flat[0]), int(flat[-1]) + 1, 1)}
    strided_slice(ctx, node.input[0], node.output[0], bounds, {axis} if idx.ndim == 0 else set())


@converter("Resize")
def resize(ctx: Context, node: Any) -> None:
    """Nearest-neighbour resizing of H and W: RESIZE_NEAREST_NEIGHBOR. ONNX ``asymmetric`` with
    ``floor`` is TFLite's default; ``half_pixel`` with ``round_prefer_ceil`` (or
    ``tf_half_pixel_for_nn``, or ``round_prefer_floor`` when upsampling by whole factors, which has
    no ties) is ``half_pixel_centers``; ``align_corners`` with
    ``round_prefer_ceil`` is ``align_corners``."""
    a = attrs(node)
    if a.get("mode", "nearest") != "nearest":
        raise ctx.unsupported(f"Resize mode '{a.get('mode')}' (nearest only)")
    coords = a.get("coordinate_transformation_mode", "half_pixel")
    rounding = a.get("nearest_mode", "round_prefer_floor")
    options = {("asymmetric", "floor"): (False, False),
               ("half_pixel", "round_prefer_ceil"): (False, True),
               ("tf_half_pixel_for_nn", "floor"): (False, True),
               ("align_corners", "round_prefer_ceil"): (True, False)}.get((coords, rounding))
    v = ctx.value(node.input[0])
    out_shape = ctx.out_shape()
    upsampling = all(o % i == 0 for i, o in zip(v.shape[2:], out_shape[2:]))
    if (coords, rounding) == ("half_pixel", "round_prefer_floor") and upsampling:
        options = (False, True)  # no ties when upsampling by whole factors
    if options is None:
        raise ctx.unsupported(f"nearest Resize with {coords} coordinates and {rounding} rounding")
    if len(v.shape) != 4 or out_shape[:2] != v.shape[:2]:
        raise ctx.unsupported("a Resize of other axes than H and W of a 4-D tensor")
    scales = ctx.const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    axes = [int(x) % 4 for x in a.get("axes", range(4))]
    if scales is not None and scales.size and any(
            float(s) * v.shape[k] != out_shape[k] for s, k in zip(scales.reshape(-1), axes)):
        raise ctx.unsupported("scales that do not give the output size exactly")
    perm = (0, 2, 3, 1)
    out = ctx.define(node.output[0], out_shape, perm)
    size = ctx.int32(f"{node.output[0]}/size", out_shape[2:])
    ctx.op("RESIZE_NEAREST_NEIGHBOR", [ctx.tensor(node.input[0], perm), size], [out],
           align_corners=options[0], half_pixel_centers=options[1])


