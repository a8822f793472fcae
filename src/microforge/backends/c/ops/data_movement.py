"""Data movement and reductions → ``mf_data_movement.c``: CONCATENATION, STRIDED_SLICE,
TRANSPOSE, PAD / PADV2, RESIZE_NEAREST_NEIGHBOR, CAST of non-int8 inputs, MEAN / SUM /
REDUCE_MAX / REDUCE_MIN.

Every layout question is settled at compile time: the emitter turns the runtime kernel's prepared
params into element counts and strides (dims of extent 1 dropped, neighbours that are contiguous
in both source and destination merged), and the C kernels only walk them.
"""

from __future__ import annotations

import math

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.backends.c.ops.elementwise import operand_ptr
from microforge.backends.c.ops.lut import wider_input_emitter
from microforge.backends.c.sources import header_define
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.resize import ResizeNearestParams
from microforge.runtime.registry import OpContext

MAX_DIMS = header_define("mf_data_movement.h", "MF_MOVE_MAX_DIMS")
MAX_CONCAT_INPUTS = header_define("mf_data_movement.h", "MF_CONCAT_MAX_INPUTS")

_CAST = {np.dtype(np.int16): "s16", np.dtype(np.int32): "s32", np.dtype(np.uint32): "u32",
         np.dtype(np.float32): "f32", np.dtype(np.int8): "s8"}


def strides(shape: tuple[int, ...]) -> list[int]:
    """Row-major element strides."""
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return out[::-1]


def collapse(counts, *steps):
    """Drop extent-1 dims and merge a dim into the next inner one where every stride list allows
    it; returns (counts, steps lists). Keeps at least one dim."""
    dims: list[tuple[int, list[int]]] = []
    for d, n in enumerate(counts):
        if n == 1:
            continue
        st = [s[d] for s in steps]
        if dims and all(ps == s * n for ps, s in zip(dims[-1][1], st)):
            dims[-1] = (dims[-1][0] * n, st)
        else:
            dims.append((int(n), st))
    if not dims:
        dims = [(1, [0] * len(steps))]
    return [n for n, _ in dims], [[st[k] for _, st in dims] for k in range(len(steps))]


def _c_array(values) -> Raw:
    return Raw("{" + ", ".join(str(int(v)) for v in values) + "}")


def copy_fields(ctx: OpContext, elem_size: int, counts, src_steps, dst_steps,
                src_base: int = 0, dst_base: int = 0) -> dict:
    counts, (src_steps, dst_steps) = collapse(counts, src_steps, dst_steps)
    if len(counts) > MAX_DIMS:
        raise ctx.unsupported(f"{len(counts)} dimensions after collapsing")
    return {
        "ndims": len(counts), "rows": math.prod(counts[:-1]), "elem_size": elem_size,
        "counts": _c_array(counts), "src_steps": _c_array(src_steps),
        "dst_steps": _c_array(dst_steps), "src_base": src_base, "dst_base": dst_base,
    }


def _struct(fields: dict) -> Raw:
    return Raw("{" + ", ".join(f".{k} = {v}" for k, v in fields.items()) + "}")


def _gather(ctx: OpContext, e: EmitContext, counts, src_steps, src_base: int) -> None:
    """Output = the input elements at ``src_base + sum(i_k * src_steps[k])``, row-major."""
    out = ctx.output()
    if out.size == 0:
        return
    fields = copy_fields(ctx, out.dtype.itemsize, counts, src_steps, strides(tuple(counts)),
                         src_base)
    p = e.params("mf_copy_params", fields)
    e.call(f"mf_strided_copy({p}, {operand_ptr(ctx, e, 0)}, {e.output_ptr()});")
    e.use("mf_data_movement")


@c_emitter("TRANSPOSE")
class TransposeEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        perm = list(params.perm)
        in_strides = strides(ctx.input(0).shape)
        _gather(ctx, e, ctx.output().shape if perm else (1,),
                [in_strides[p] for p in perm] or [0], 0)


@c_emitter("STRIDED_SLICE")
class StridedSliceEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        in_strides = strides(ctx.input(0).shape)
        counts, steps, base = [], [], 0
        for idx, stride in zip(params.indices, in_strides):
            idx = np.asarray(idx, np.int64)
            step = int(idx[1] - idx[0]) if idx.size > 1 else 1
            if idx.size and np.any(idx != idx[0] + step * np.arange(idx.size)):
                raise ctx.unsupported("slice indices are not an arithmetic progression")
            counts.append(idx.size)
            steps.append(step * stride)
            base += int(idx[0]) * stride if idx.size else 0
        _gather(ctx, e, counts or [1], steps or [0], base)


@c_emitter("PAD", "PADV2")
class PadEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        x, out = ctx.input(0), ctx.output()
        if out.size == 0:
            return
        before = [s.start for s in params.interior[1:]]
        out_strides = strides(out.shape)
        copy = copy_fields(ctx, out.dtype.itemsize, x.shape or (1,), strides(x.shape) or [0],
                           out_strides or [0], 0, sum(b * s for b, s in zip(before, out_strides)))
        if x.size == 0:
            copy["rows"] = 0
        value = ctx.input(2)
        if value is not None:
            value_ptr = operand_ptr(ctx, e, 2)
        else:
            value_ptr = e.const("pad_value", np.array([params.default], out.dtype))
        p = e.params("mf_pad_params", {"total": out.size, "copy": _struct(copy)})
        e.call(f"mf_pad({p}, {operand_ptr(ctx, e, 0)}, {value_ptr}, {e.output_ptr()});")
        e.use("mf_data_movement")


@c_emitter("RESIZE_NEAREST_NEIGHBOR")
class ResizeNearestEmitter(OpEmitter):
    """The runtime's row and column index tables become two int32 constant arrays; C copies
    whole pixels (any element type)."""

    def emit(self, ctx: OpContext, params: ResizeNearestParams, e: EmitContext) -> None:
        x, out = ctx.input(0), ctx.output()
        if out.size == 0:
            return
        p = e.params("mf_resize_params", {
            "batches": x.shape[0], "in_h": x.shape[1], "in_w": x.shape[2],
            "out_h": out.shape[1], "out_w": out.shape[2],
            "pixel_bytes": x.shape[3] * x.dtype.itemsize,
            "rows": Raw(e.const("rows", params.rows.astype(np.int32))),
            "cols": Raw(e.const("cols", params.cols.astype(np.int32))),
        })
        e.call(f"mf_resize_nearest({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_data_movement")


@c_emitter("CONCATENATION")
class ConcatenationEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        out, axis = ctx.output(), params.axis
        if len(ctx.inputs) > MAX_CONCAT_INPUTS:
            raise ctx.unsupported(f"more than {MAX_CONCAT_INPUTS} inputs")
        if out.size == 0:
            return
        item = out.dtype.itemsize
        chunks = [math.prod(t.shape[axis:]) * item for t in ctx.inputs]
        offsets = np.concatenate([[0], np.cumsum(chunks)[:-1]])
        p = e.params("mf_concat_params", {
            "inputs": len(chunks), "outer": math.prod(out.shape[:axis]),
            "out_chunk": math.prod(out.shape[axis:]) * item,
            "chunk": _c_array(chunks), "offset": _c_array(offsets),
        })
        pointers = ", ".join(operand_ptr(ctx, e, i) for i in range(len(chunks)))
        e.call(f"mf_concatenation({p}, (const void *const[]){{{pointers}}}, {e.output_ptr()});")
        e.use("mf_data_movement")


@wider_input_emitter("CAST")
class CastEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        """Integers of one width (int32 <-> uint32) keep their bytes: the output is a view of
        the input (no code) where the planner allows it, else the copy below."""
        src, dst = np.dtype(ctx.input(0).dtype), np.dtype(ctx.output().dtype)
        same = src.itemsize == dst.itemsize
        return OpMemory(view=same and src.kind in "iu" and dst.kind in "iu", inplace=same)

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        src, dst = _CAST.get(ctx.input(0).dtype), _CAST.get(ctx.output().dtype)
        if src in (None, "s8") or dst is None:
            raise ctx.unsupported(f"CAST {ctx.input(0).dtype} -> {ctx.output().dtype} has no C kernel")
        if ctx.output().size:
            e.call(f"mf_cast_{src}_{dst}({operand_ptr(ctx, e, 0)}, {e.output_ptr()}, {ctx.output().size});")
            e.use("mf_data_movement")


_REDUCE = {"MEAN": "sum", "SUM": "sum", "REDUCE_MAX": "max", "REDUCE_MIN": "min"}


@c_emitter(*_REDUCE)
class ReduceEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        x, out = ctx.input(0), ctx.output()
        if out.size == 0:
            return
        rank = len(x.shape)
        reduced = sorted(p - 1 for p in params.perm[1 + rank - self._reduced_count(ctx, rank):])
        kept = [a for a in range(rank) if a not in reduced]
        st = strides(x.shape)
        kept_counts, (kept_steps,) = collapse([x.shape[a] for a in kept] or [1],
                                              [st[a] for a in kept] or [0])
        red_counts, (red_steps,) = collapse([x.shape[a] for a in reduced] or [1],
                                            [st[a] for a in reduced] or [0])
        if max(len(kept_counts), len(red_counts)) > MAX_DIMS:
            raise ctx.unsupported("too many dimensions after collapsing")
        fields = {
            "kept_ndims": len(kept_counts), "kept_total": math.prod(kept_counts),
            "kept_counts": _c_array(kept_counts), "kept_steps": _c_array(kept_steps),
            "red_ndims": len(red_counts), "red_rows": math.prod(red_counts[:-1]), "n": params.n,
            "red_counts": _c_array(red_counts), "red_steps": _c_array(red_steps),
            "divide": ctx.op.opcode == "MEAN",
        }
        kind = _REDUCE[ctx.op.opcode]
        suffix = {np.dtype(np.int8): "s8", np.dtype(np.int16): "s16",
                  np.dtype(np.float32): "f32"}.get(x.dtype)
        if suffix is None or (kind != "sum" and suffix == "s16"):
            raise ctx.unsupported(f"{ctx.op.opcode} {x.dtype} has no C kernel")
        if kind == "sum" and params.kind == "int":
            info = np.iinfo(x.dtype)
            offset = ((params.zp_in * params.n + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
            fields.update({
                "offset": offset, "m": params.m[0], "s": params.m[1],
                "lo": int(info.min) - params.zp_out, "hi": int(info.max) - params.zp_out,
                "zp_out": params.zp_out,
            })
        p = e.params("mf_reduce_params", fields)
        e.call(f"mf_reduce_{kind}_{suffix}({p}, {operand_ptr(ctx, e, 0)}, {e.output_ptr()});")
        e.use("mf_data_movement")

    @staticmethod
    def _reduced_count(ctx: OpContext, rank: int) -> int:
        axes = {int(a) % rank for a in np.asarray(ctx.input(1).data).reshape(-1)} if rank else set()
        return len(axes)
