"""CONV_2D / DEPTHWISE_CONV_2D (int8) → ``mf_conv.c``."""

from __future__ import annotations

import numpy as np

from microforge.codegen.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.runtime.kernels.conv import Geometry
from microforge.runtime.registry import OpContext


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
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        _int8_only(ctx, params)
        w = ctx.input(1)
        if w.shape[3] != ctx.input(0).shape[3]:
            raise ctx.unsupported("grouped convolution has no C kernel yet")
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
