"""Convolution, pooling and fully connected layers.

A 2-D operator reads its input NHWC. A 1-D one (Conv1d-style N, C, L input) runs as the 2-D
operator on (N, 1, L, C), as the TFLite converter does, with RESHAPEs (free: only a size-1 axis
moves) on either side. Padding becomes SAME or VALID when that is exact, else an explicit PAD
(PADV2 with the lowest float for max pooling) before a VALID operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge.frontends.onnx.attrs import attrs
from microforge.frontends.onnx.context import Context
from microforge.frontends.onnx.layout import channels_last, identity
from microforge.frontends.onnx.registry import converter
from microforge.ir import Padding


@dataclass
class Window:
    """The 2-D geometry of a convolution or pooling node (1-D ones have height 1)."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    auto_pad: str


def window(ctx: Context, node: Any, kernel: tuple[int, ...]) -> Window:
    a = attrs(node)
    n = len(kernel)
    if n not in (1, 2):
        raise ctx.unsupported(f"{n}-D windows (1-D and 2-D only)")
    strides = tuple(a.get("strides", [1] * n))
    dilations = tuple(a.get("dilations", [1] * n))
    pads = tuple(a.get("pads", [0] * 2 * n))
    if n == 1:
        kernel, strides, dilations = (1, *kernel), (1, *strides), (1, *dilations)
        pads = (0, pads[0], 0, pads[1])
    return Window(tuple(kernel), strides, dilations, pads, a.get("auto_pad", "NOTSET"))


def padding(ctx: Context, win: Window, in_hw: tuple[int, int], out_hw: tuple[int, int]
            ) -> tuple[Padding, tuple[int, int, int, int] | None]:
    """TFLite padding for the window: SAME (ONNX SAME_UPPER, or explicit pads equal to SAME's),
    VALID (no pads), or VALID after the explicit pads returned."""
    if win.auto_pad == "VALID":
        return Padding.VALID, None
    same = []
    for size, k, s, d in zip(in_hw, win.kernel, win.strides, win.dilations):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        same.append((total // 2, total - total // 2, out))
    if win.auto_pad == "SAME_UPPER":
        return Padding.SAME, None
    if win.auto_pad == "SAME_LOWER":
        (t, b, _), (lf, r, _) = same
        return Padding.VALID, (b, r, t, lf)
    if not any(win.pads):
        return Padding.VALID, None
    top, left, bottom, right = win.pads
    if ((top, bottom, out_hw[0]) == same[0] and (left, right, out_hw[1]) == same[1]):
        return Padding.SAME, None
    return Padding.VALID, win.pads


class Spatial:
    """The NHWC view of a spatial node's input and the reshape back for its output."""

    def __init__(self, ctx: Context, node: Any) -> None:
        self.ctx, self.node = ctx, node
        v = ctx.value(node.input[0])
        self.rank = len(v.shape)
        if self.rank not in (3, 4):
            raise ctx.unsupported(f"{self.rank}-D input (3-D and 4-D only)")
        x = ctx.tensor(node.input[0], channels_last(self.rank))
        if self.rank == 3:
            n, c, length = v.shape
            x4 = ctx.temp(f"{node.input[0]}/as_2d", (n, 1, length, c))
            ctx.op("RESHAPE", [x, ctx.int32(f"{node.input[0]}/as_2d_shape", (n, 1, length, c))],
                   [x4])
            x = x4
        self.x = x
        self.in_shape = ctx.ir_shape(x)  # NHWC
        out = ctx.out_shape()
        self.out_onnx = out
        self.out_shape = (out[0], out[2], out[3], out[1]) if self.rank == 4 else (
            out[0], 1, out[2], out[1])

    def output(self) -> int:
        """The NHWC output tensor the operator writes (the ONNX output itself when 2-D)."""
        ctx, name = self.ctx, self.node.output[0]
        if self.rank == 4:
            return ctx.define(name, self.out_onnx, channels_last(4))
        return ctx.temp(f"{name}/2d", self.out_shape)

    def finish(self, out4: int) -> None:
        if self.rank == 3:
            ctx, name = self.ctx, self.node.output[0]
            y = ctx.define(name, self.out_onnx, channels_last(3))
            ctx.op("RESHAPE", [out4, ctx.int32(f"{name}/shape", ctx.ir_shape(y))], [y])

    def pad(self, pads: tuple[int, int, int, int], value: float | None = None) -> None:
        """Pad the input explicitly (top, left, bottom, right); ``value`` None pads zeros."""
        ctx = self.ctx
        t, lf, b, r = pads
        n, h, w, c = self.in_shape
        padded = ctx.temp(f"{self.node.output[0]}/padded", (n, h + t + b, w + lf + r, c))
        paddings = ctx.int32(f"{self.node.output[0]}/paddings", [[0, 0], [t, b], [lf, r], [0, 0]])
        if value is None:
            ctx.op("PAD", [self.x, paddings], [padded])
        else:
            fill = ctx.float32(f"{self.node.output[0]}/pad_value", [value])
            ctx.op("PADV2", [self.x, paddings, fill], [padded])
        self.x, self.in_shape = padded, ctx.ir_shape(padded)


@converter("Conv")
def conv(ctx: Context, node: Any) -> None:
    """CONV_2D (any group count: TFLM's and the runtime's grouped convolution), or
    DEPTHWISE_CONV_2D when every group is one input channel."""
    w = ctx.need_const(node.input[1], "the Conv weight").astype(np.float32)
    c_out = w.shape[0]
    bias = (ctx.need_const(node.input[2], "the Conv bias").astype(np.float32)
            if len(node.input) > 2 and node.input[2] else np.zeros(c_out, np.float32))
    sp = Spatial(ctx, node)
    if w.ndim == 3:
        w = w[:, :, None, :]
    win = window(ctx, node, tuple(attrs(node).get("kernel_shape", w.shape[2:]))[-(sp.rank - 2):])
    group = int(attrs(node).get("group", 1))
    c_in = sp.in_shape[3]
    pad_mode, explicit = padding(ctx, win, sp.in_shape[1:3], sp.out_shape[1:3])
    if explicit is not None:
        sp.pad(explicit)
    geometry = dict(padding=pad_mode, stride_h=win.strides[0], stride_w=win.strides[1],
                    dilation_h_factor=win.dilations[0], dilation_w_factor=win.dilations[1])
    name = node.output[0]
    b = ctx.builder.const(f"{name}/bias", bias)
    out = sp.output()
    if group > 1 and group == c_in:
        filt = w.reshape(c_out, *w.shape[2:]).transpose(1, 2, 0)[None]
        ctx.op("DEPTHWISE_CONV_2D", [sp.x, ctx.builder.const(f"{name}/filter", filt), b], [out],
               depth_multiplier=c_out // c_in, **geometry)
    else:
        filt = np.ascontiguousarray(w.transpose(0, 2, 3, 1))
        ctx.op("CONV_2D", [sp.x, ctx.builder.const(f"{name}/filter", filt), b], [out], **geometry)
    sp.finish(out)


def _pool(ctx: Context, node: Any, opcode: str) -> None:
    a = attrs(node)
    sp = Spatial(ctx, node)
    win = window(ctx, node, tuple(a["kernel_shape"]))
    if win.dilations != (1, 1):
        raise ctx.unsupported("dilated pooling")
    pad_mode, explicit = padding(ctx, win, sp.in_shape[1:3], sp.out_shape[1:3])
    if opcode == "AVERAGE_POOL_2D" and int(a.get("count_include_pad", 0)) and pad_mode == Padding.SAME:
        # TFLite's SAME average excludes the padding; counting it needs the zeros made explicit
        explicit = win.pads if any(win.pads) else _same_pads(win, sp.in_shape[1:3])
        pad_mode = Padding.VALID
    if explicit is not None:
        if opcode == "AVERAGE_POOL_2D" and not int(a.get("count_include_pad", 0)):
            raise ctx.unsupported("average pooling over padding it excludes that is not TFLite's SAME")
        sp.pad(explicit, None if opcode == "AVERAGE_POOL_2D" else float(np.finfo(np.float32).min))
    expected = [(s - k) // st + 1 for s, k, st in zip(sp.in_shape[1:3], win.kernel, win.strides)]
    if pad_mode == Padding.VALID and list(sp.out_shape[1:3]) != expected:
        raise ctx.unsupported("ceil_mode=1 with a partial last window")
    out = sp.output()
    ctx.op(opcode, [sp.x], [out], padding=pad_mode, stride_h=win.strides[0],
           stride_w=win.strides[1], filter_height=win.kernel[0], filter_width=win.kernel[1])
    sp.finish(out)


def _same_pads(win: Window, in_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    totals = [max((-(-s // st) - 1) * st + k - s, 0)
              for s, k, st in zip(in_hw, win.kernel, win.strides)]
    return (totals[0] // 2, totals[1] // 2, totals[0] - totals[0] // 2, totals[1] - totals[1] // 2)


@converter("MaxPool")
def max_pool(ctx: Context, node: Any) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise ctx.unsupported("the Indices output of MaxPool")
    _pool(ctx, node, "MAX_POOL_2D")


@converter("AveragePool")
def average_pool(ctx: Context, node: Any) -> None:
    _pool(ctx, node, "AVERAGE_POOL_2D")


@converter("GlobalAveragePool", "GlobalMaxPool")
def global_pool(ctx: Context, node: Any) -> None:
    """MEAN / REDUCE_MAX over the spatial axes with keep_dims, as the TFLite converter lowers
    global pooling."""
    v = ctx.value(node.input[0])
    rank = len(v.shape)
    perm = channels_last(rank)
    out = ctx.define(node.output[0], ctx.out_shape(), perm)
    axes = ctx.int32(f"{node.output[0]}/axes", list(range(1, rank - 1)))
    opcode = "MEAN" if node.op_type == "GlobalAveragePool" else "REDUCE_MAX"
    ctx.op(opcode, [ctx.tensor(node.input[0], perm), axes], [out], keep_dims=True)


def fully_connected(ctx: Context, node: Any, x_name: str, weights: np.ndarray,
                    bias: np.ndarray) -> None:
    """FULLY_CONNECTED of ``x`` (its last axis) with (out, in) weights; rank > 2 keeps its
    leading axes (keep_num_dims)."""
    v = ctx.value(x_name)
    perm = v.perm if v.perm[-1] == len(v.shape) - 1 else identity(len(v.shape))
    out_shape = (*v.shape[:-1], weights.shape[0])
    name = node.output[0]
    out = ctx.define(name, out_shape, perm)
    ctx.op("FULLY_CONNECTED", [ctx.tensor(x_name, perm),
                               ctx.builder.const(f"{name}/weights", weights.astype(np.float32)),
                               ctx.builder.const(f"{name}/bias", bias.astype(np.float32))],
           [out], keep_num_dims=len(out_shape) > 2)


@converter("Gemm")
def gemm(ctx: Context, node: Any) -> None:
    """alpha * A' B' + beta * C with constant B and C: FULLY_CONNECTED (A transposed first when
    transA)."""
    a = attrs(node)
    if int(a.get("transA", 0)):
        raise ctx.unsupported("transA=1")
    b = ctx.need_const(node.input[1], "Gemm's B").astype(np.float64)
    weights = b if int(a.get("transB", 0)) else b.T
    weights = weights * float(a.get("alpha", 1.0))
    n = weights.shape[0]
    c = (ctx.need_const(node.input[2], "Gemm's C").astype(np.float64)
         if len(node.input) > 2 and node.input[2] else np.zeros(n))
    c = np.broadcast_to(c * float(a.get("beta", 1.0)), (ctx.out_shape()[0], n))
    if np.any(c != c[:1]):
        raise ctx.unsupported("a C that differs between rows")
    fully_connected(ctx, node, node.input[0], weights, c[0])


@converter("MatMul")
def matmul(ctx: Context, node: Any) -> None:
    b = ctx.const(node.input[1])
    if b is None or b.ndim != 2 or ctx.const(node.input[0]) is not None:
        raise ctx.unsupported("MatMul of two run-time tensors needs BATCH_MATMUL, which the runtime "
                              "does not have; only MatMul by a constant 2-D matrix")
    if len(ctx.value(node.input[0]).shape) < 2:
        raise ctx.unsupported("a 1-D MatMul operand")
    fully_connected(ctx, node, node.input[0], b.T.astype(np.float64),
                    np.zeros(b.shape[1]))

