"""CONV_2D / DEPTHWISE_CONV_2D (int8) → ``mf_conv.c``."""

from __future__ import annotations

import numpy as np

from microforge.codegen.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.planner.inplace import max_safe_shift, window_first_read
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.conv import Geometry
from microforge.runtime.registry import OpContext

MAX_OUT_C = 1024  # MF_CONV_MAX_OUT_C in mf_conv.h
DW_BLOCK = 64  # MF_DW_BLOCK in mf_conv.c


def _geometry(ctx: OpContext) -> Geometry:
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    return Geometry.of(ctx.options, x.shape, w.shape[1], w.shape[2], out.shape)


def _first_read(ctx: OpContext) -> np.ndarray:
    """Per output pixel, the byte offset of the first input byte its window reads."""
    g = _geometry(ctx)
    pixels = window_first_read(g.out_h, g.out_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left,
                               g.in_h, g.in_w)
    return pixels.reshape(-1) * ctx.input(0).shape[3]


def _int8_only(ctx: OpContext, params) -> None:
    ints = getattr(params, "ints", None)
    if ints is None or ctx.input(0).dtype != np.int8:
        raise ctx.unsupported("only int8 convolutions have a C kernel yet")


def _common(ctx: OpContext, params, weights_sum: np.ndarray) -> dict:
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    k_h, k_w = w.shape[1], w.shape[2]
    g = Geometry.of(ctx.options, x.shape, k_h, k_w, out.shape)
    rq = params.ints.requant
    input_offset = -params.ints.zero_point
    bias = rq.bias.astype(np.int64) + input_offset * weights_sum
    return {
        "geometry": g,
        "fields": {
            "in_h": g.in_h, "in_w": g.in_w, "in_c": x.shape[3],
            "out_h": g.out_h, "out_w": g.out_w, "out_c": out.shape[3],
            "k_h": k_h, "k_w": k_w, "stride_h": g.stride_h, "stride_w": g.stride_w,
            "dil_h": g.dil_h, "dil_w": g.dil_w, "pad_top": g.pad_top, "pad_left": g.pad_left,
            "input_offset": input_offset, "output_offset": rq.zero_point,
            "act_min": rq.act_min, "act_max": rq.act_max,
        },
        "bias": bias,
        "multiplier": np.broadcast_to(rq.multiplier, (out.shape[3],)),
        "shift": np.broadcast_to(rq.shift, (out.shape[3],)),
    }


def _check_int32(ctx: OpContext, values: np.ndarray, what: str) -> np.ndarray:
    if values.size and (values.min() < -(1 << 31) or values.max() >= (1 << 31)):
        raise ctx.unsupported(f"{what} does not fit int32")
    return values.astype(np.int32)


@c_emitter("CONV_2D")
class Conv2DEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        """mf_conv_s8 computes a whole output pixel before storing it: one step per pixel."""
        if getattr(params, "ints", None) is None or ctx.output().shape[3] > MAX_OUT_C:
            return OpMemory()
        out_c = ctx.output().shape[3]
        first = _first_read(ctx)
        ends = (np.arange(first.size, dtype=np.int64) + 1) * out_c
        return OpMemory(inplace=True, inplace_shift=max_safe_shift(first, ends))

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        _int8_only(ctx, params)
        w = ctx.input(1)
        if w.shape[3] != ctx.input(0).shape[3]:
            raise ctx.unsupported("grouped convolution has no C kernel yet")
        if w.shape[0] > MAX_OUT_C:
            raise ctx.unsupported(f"more than {MAX_OUT_C} output channels has no C kernel yet")
        weights = w.data.astype(np.int64)
        c = _common(ctx, params, weights.reshape(w.shape[0], -1).sum(axis=1))
        fields = dict(c["fields"], depth_multiplier=1)
        fields["weights"] = Raw(e.const("w", w.data))
        fields["bias"] = Raw(e.const("bias", _check_int32(ctx, c["bias"], "bias")))
        fields["multiplier"] = Raw(e.const("mult", c["multiplier"].astype(np.int32)))
        fields["shift"] = Raw(e.const("shift", c["shift"].astype(np.int32)))
        p = e.params("mf_conv_s8_params", fields)
        e.call(f"mf_conv_s8({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_conv")


@c_emitter("DEPTHWISE_CONV_2D")
class DepthwiseConv2DEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        """mf_depthwise_conv_s8 runs per output pixel and per block of 64 channels."""
        if getattr(params, "ints", None) is None:
            return OpMemory()
        out_c = ctx.output().shape[3]
        m = out_c // ctx.input(0).shape[3]
        starts = np.arange(0, out_c, DW_BLOCK, dtype=np.int64)
        sizes = np.minimum(DW_BLOCK, out_c - starts)
        first = _first_read(ctx)[:, None] + starts[None, :] // m
        pixel = np.arange(first.shape[0], dtype=np.int64)[:, None] * out_c
        ends = pixel + starts[None, :] + sizes[None, :]
        return OpMemory(inplace=True, inplace_shift=max_safe_shift(first, ends))

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        _int8_only(ctx, params)
        w = ctx.input(1)
        out_c = ctx.output().shape[3]
        c = _common(ctx, params, np.zeros(out_c, np.int64))  # offset added per tap in C
        fields = dict(c["fields"], depth_multiplier=out_c // ctx.input(0).shape[3])
        fields["weights"] = Raw(e.const("w", w.data))
        fields["bias"] = Raw(e.const("bias", _check_int32(ctx, c["bias"], "bias")))
        fields["multiplier"] = Raw(e.const("mult", c["multiplier"].astype(np.int32)))
        fields["shift"] = Raw(e.const("shift", c["shift"].astype(np.int32)))
        p = e.params("mf_conv_s8_params", fields)
        e.call(f"mf_depthwise_conv_s8({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_conv")
