"""Elementwise binary operators → ``mf_elementwise_<type>.c``: ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
SQUARED_DIFFERENCE.

Broadcasting is reduced at compile time to at most ``MAX_DIMS`` collapsed dimensions with a stride
per operand (0 where it broadcasts); the C loops run over rows whose operands step by 1 or 0. The
constants (multipliers, shifts, offsets, clamp ranges) are the runtime kernel's prepared params.
An int8 operation with a one-element constant operand becomes a 256-entry lookup table taken from
the runtime kernel's own pair table (exact by construction), like the unary LUT operators. int8
ADD / SUB over at least ``TABLE_MIN_ELEMENTS`` outputs read each input's rescaled value from a
256-entry int32 table made with the runtime's own rescale function (2 kB of flash for about half
the instructions).
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.backends.c.sources import header_define
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.elementwise import BinaryParams, rescale
from microforge.runtime.registry import OpContext

MAX_DIMS = header_define("mf_elementwise.h", "MF_BINARY_MAX_DIMS")
TABLE_MIN_ELEMENTS = 256  # int8 ADD / SUB this large read each input's rescale from a table

SUFFIX = {np.dtype(np.int8): "s8", np.dtype(np.int16): "s16", np.dtype(np.int32): "s32",
          np.dtype(np.int64): "s64", np.dtype(np.float32): "f32"}

# The C source holding each type's kernels (int64 MAXIMUM / MINIMUM sit with int32).
_SOURCE = {"s8": "s8", "s16": "s16", "s32": "s32", "s64": "s32", "f32": "f32"}

_FUNCTION = {"ADD": "add", "SUB": "sub", "MUL": "mul", "DIV": "div", "MAXIMUM": "maximum",
             "MINIMUM": "minimum", "SQUARED_DIFFERENCE": "squared_difference"}

# (function, dtype suffix) pairs with a C kernel.
_SUPPORTED = {(f, s) for f in ("add", "sub", "mul", "squared_difference")
              for s in ("s8", "s16", "s32", "f32")}
_SUPPORTED |= {("div", "s8"), ("div", "s32"), ("div", "f32")}
_SUPPORTED |= {(f, s) for f in ("maximum", "minimum") for s in ("s8", "s16", "s32", "s64", "f32")}


def operand_ptr(ctx: OpContext, e: EmitContext, i: int) -> str:
    """A C pointer to input ``i``: its constant data as a ``static const`` array, or its buffer."""
    t = ctx.input(i)
    if t.data is not None:
        return e.const(f"in{i}", np.asarray(t.data))
    return e.input_ptr(i)


def broadcast_plan(a_shape: tuple[int, ...], b_shape: tuple[int, ...]):
    """Collapsed broadcast geometry: (dims, a_strides, b_strides) in elements, dims of size 1
    dropped and neighbours with the same broadcast pattern merged."""
    shape = np.broadcast_shapes(a_shape, b_shape)
    rank = len(shape)
    a = (1,) * (rank - len(a_shape)) + tuple(a_shape)
    b = (1,) * (rank - len(b_shape)) + tuple(b_shape)
    dims: list[list] = []
    for n, na, nb in zip(shape, a, b):
        if n == 1:
            continue
        key = (na == 1, nb == 1)
        if dims and dims[-1][1] == key:
            dims[-1][0] *= n
        else:
            dims.append([n, key])
    if not dims:
        dims = [[1, (False, False)]]
    strides: list[list[int]] = [[0] * len(dims), [0] * len(dims)]
    for k in range(2):
        step = 1
        for d in range(len(dims) - 1, -1, -1):
            if not dims[d][1][k]:
                strides[k][d] = step
                step *= dims[d][0]
    return [d[0] for d in dims], strides[0], strides[1]


def _c_array(values: list[int]) -> Raw:
    return Raw("{" + ", ".join(str(int(v)) for v in values) + "}")


def _scalar_constant(ctx: OpContext, params: BinaryParams) -> int | None:
    """The index of a one-element constant operand of an int8 table operation, if any."""
    if params.table is None:
        return None
    for i in (1, 0):
        t = ctx.input(i)
        if t.data is not None and t.size == 1 and ctx.input(1 - i).size == ctx.output().size:
            return i
    return None


def _scalar_table(ctx: OpContext, params: BinaryParams, i: int) -> np.ndarray:
    """The 256 results for the other operand's values -128..127, from the runtime's pair table
    (indexed by the operands' byte patterns, input 0 high)."""
    c = int(np.asarray(ctx.input(i).data).reshape(-1)[0].view(np.uint8))
    v = np.arange(-128, 128).astype(np.int8).view(np.uint8).astype(np.int64)
    index = (c << 8) | v if i == 0 else (v << 8) | c
    return np.asarray(params.table)[index].astype(np.int8)


@c_emitter(*_FUNCTION)
class BinaryEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: BinaryParams) -> OpMemory:
        """Element i is read from both operands before it is written: the output may take the
        bytes of either operand of its own size (a residual ADD over whichever branch dies)."""
        out = ctx.output()
        same = tuple(k for k in (0, 1) if ctx.input(k).size == out.size
                     and out.dtype.itemsize <= ctx.input(k).dtype.itemsize)
        return OpMemory(inplace=bool(same), inplace_inputs=same or (0,))

    def emit(self, ctx: OpContext, params: BinaryParams, e: EmitContext) -> None:
        a, b, out = ctx.input(0), ctx.input(1), ctx.output()
        fn, suffix = _FUNCTION[ctx.op.opcode], SUFFIX.get(out.dtype)
        if out.size == 0:
            return
        scalar = _scalar_constant(ctx, params)
        if scalar is not None:
            table = e.const("table", _scalar_table(ctx, params, scalar))
            e.call(f"mf_lut_s8_s8({table}, {e.input_ptr(1 - scalar)}, {e.output_ptr()}, "
                   f"{out.size});")
            e.use("mf_lut")
            return
        if (fn, suffix) not in _SUPPORTED:
            raise ctx.unsupported(f"{ctx.op.opcode} {out.dtype} has no C kernel")
        dims, a_strides, b_strides = broadcast_plan(a.shape, b.shape)
        if len(dims) > MAX_DIMS:
            raise ctx.unsupported(f"broadcast over {len(dims)} collapsed dimensions")
        fields = {
            "ndims": len(dims), "rows": int(np.prod(dims[:-1], dtype=np.int64)),
            "inner": dims[-1], "dims": _c_array(dims),
            "a_stride": _c_array(a_strides), "b_stride": _c_array(b_strides),
        }
        fields.update(self._constants(ctx, params, out.dtype))
        kernel = f"mf_{fn}_{suffix}"
        if (fn, suffix) in (("add", "s8"), ("sub", "s8")) and out.size >= TABLE_MIN_ELEMENTS:
            fields.update(self._rescale_tables(params, -1 if fn == "sub" else 1, e))
            kernel = "mf_add_s8_table"
        p = e.params("mf_binary_params", fields)
        e.call(f"{kernel}({p}, {operand_ptr(ctx, e, 0)}, {operand_ptr(ctx, e, 1)}, "
               f"{e.output_ptr()});")
        e.use("mf_elementwise", f"mf_elementwise_{_SOURCE[suffix]}")

    @staticmethod
    def _rescale_tables(params: BinaryParams, sign: int, e: EmitContext) -> dict:
        """Each input's rescaled value for every int8 value (the runtime's own ``rescale``); the
        second negated for SUB."""
        values = np.arange(-128, 128)
        first = rescale(values, params.zp1, params.left_shift, params.m1)
        second = sign * rescale(values, params.zp2, params.left_shift, params.m2)
        return {"table1": Raw(e.const("table1", first.astype(np.int32))),
                "table2": Raw(e.const("table2", second.astype(np.int32)))}

    @staticmethod
    def _constants(ctx: OpContext, params: BinaryParams, dtype: np.dtype) -> dict:
        if params.kind == "float":
            return {"flo": float(params.lo), "fhi": float(params.hi)}
        if params.kind == "int32":
            return {"lo": int(params.lo), "hi": int(params.hi)}
        if params.kind != "quant":
            return {}
        if ctx.op.opcode == "DIV" and params.mo[1] > 22:
            raise ctx.unsupported("int8 DIV output multiplier too large (negative final shift)")
        info = np.iinfo(dtype)
        for t, zp in ((ctx.input(0), params.zp1), (ctx.input(1), params.zp2)):
            span = max(abs(int(info.min) - zp), abs(int(info.max) - zp))
            if span << params.left_shift >= 1 << 31:
                raise ctx.unsupported(f"zero point {zp} of {t.name!r} overflows the rescale")
        return {
            "zp1": params.zp1, "zp2": params.zp2, "left_shift": params.left_shift,
            "m1": params.m1[0], "r1": -params.m1[1], "m2": params.m2[0], "r2": -params.m2[1],
            "mo": params.mo[0], "out_left": max(params.mo[1], 0), "out_right": max(-params.mo[1], 0),
            "zpo": params.zpo,
            "lo": int(params.lo) - params.zpo, "hi": int(params.hi) - params.zpo,
        }
