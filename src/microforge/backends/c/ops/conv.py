"""CONV_2D / DEPTHWISE_CONV_2D (int8) → ``mf_conv.c``.

The geometry and the output stage come from the runtime kernel's ``ConvParams`` /
``DepthwiseParams``; the channel block and the pointwise path's depth limit are ``mf_conv.h``'s."""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.backends.c.sources import header_define
from microforge.planner.inplace import max_safe_shift, window_first_read
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.conv import ConvParams, DepthwiseParams
from microforge.runtime.registry import OpContext

BLOCK = header_define("mf_conv.h", "MF_CONV_BLOCK")
MAX_POINTWISE_IN_C = header_define("mf_conv.h", "MF_CONV_MAX_POINTWISE_IN_C")
MAX_COL = header_define("mf_conv.h", "MF_CONV_MAX_COL")

AnyConvParams = ConvParams | DepthwiseParams


def _ohwi(ctx: OpContext) -> np.ndarray:
    """The CONV_2D weights [out_c][k_h][k_w][in_c]; a DEPTHWISE_CONV_2D of one input channel
    (depth multiplier M, weights [1][k_h][k_w][M]) is the CONV_2D of M output channels whose
    weights are these transposed: the same sums, so it runs in the convolution kernels."""
    w = np.asarray(ctx.input(1).data)
    return w.transpose(3, 1, 2, 0) if ctx.op.opcode == "DEPTHWISE_CONV_2D" else w


def _pointwise(ctx: OpContext, params: AnyConvParams) -> bool:
    g, w = params.geometry, _ohwi(ctx)
    return (g.k_h == g.k_w == 1 and g.stride_h == g.stride_w == 1 and g.pad_top == g.pad_left == 0
            and g.in_h == g.out_h and g.in_w == g.out_w and w.shape[3] <= MAX_POINTWISE_IN_C)


def _first_read(ctx: OpContext, params: AnyConvParams) -> np.ndarray:
    """Per output pixel, the byte offset of the first input byte its window reads."""
    g = params.geometry
    pixels = window_first_read(g.out_h, g.out_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left,
                               g.in_h, g.in_w)
    return pixels.reshape(-1) * ctx.input(0).shape[3]


def _int8_only(ctx: OpContext, params: AnyConvParams) -> None:
    if params.kind != "int8":
        raise ctx.unsupported("only int8 convolutions have a C kernel yet")


def _common(ctx: OpContext, params: AnyConvParams) -> dict:
    x, w, out = ctx.input(0), ctx.input(1), ctx.output()
    k_h, k_w = w.shape[1], w.shape[2]  # [.][k_h][k_w][.] for both operators
    g = params.geometry
    rq = params.ints.requant
    out_c = out.shape[3]
    shift = np.broadcast_to(rq.shift, (out_c,)).astype(np.int64)
    return {
        "in_h": g.in_h, "in_w": g.in_w, "in_c": x.shape[3],
        "out_h": g.out_h, "out_w": g.out_w, "out_c": out_c,
        "k_h": k_h, "k_w": k_w, "stride_h": g.stride_h, "stride_w": g.stride_w,
        "dil_h": g.dil_h, "dil_w": g.dil_w, "pad_top": g.pad_top, "pad_left": g.pad_left,
        "input_offset": -params.ints.zero_point, "output_offset": rq.zero_point,
        "act_min": rq.act_min, "act_max": rq.act_max,
        "_bias": np.broadcast_to(rq.bias, (out_c,)).astype(np.int64),
        "_multiplier": np.broadcast_to(rq.multiplier, (out_c,)).astype(np.int32),
        "_left": np.maximum(shift, 0).astype(np.int32),
        "_right": np.maximum(-shift, 0).astype(np.int32),
    }


def _window(ctx: OpContext) -> int:
    """k_h * k_w * in_c: the length of one im2col column."""
    w = _ohwi(ctx)
    return w.shape[1] * w.shape[2] * w.shape[3]


def _matmul(ctx: OpContext) -> bool:
    """Whether the DSP variant runs this CONV_2D as a matrix product (scratch for two columns)."""
    return _window(ctx) <= MAX_COL


def col_bytes(k: int) -> int:
    """``MF_CONV_COL_BYTES(k)``: two interleaved int16 columns of k rounded up to 4."""
    return 2 * 2 * (-(-k // 4) * 4)


def dsp_weights(ohwi: np.ndarray) -> np.ndarray:
    """The DSP matrix product's weight layout, in the order ``dsp_dot_2x2`` (mf_conv_dsp.h) reads
    it: per pair of output channels, each whole group of four window positions as the first
    channel's four bytes then the second's, each stored as 0, 2, 1, 3; then both channels' last
    (k mod 4) bytes; an odd last channel alone. A permutation: no flash growth."""
    rows = np.ascontiguousarray(ohwi).reshape(ohwi.shape[0], -1)
    out_c, k = rows.shape
    k4 = k // 4 * 4
    swizzled = rows[:, :k4].reshape(out_c, -1, 4)[:, :, [0, 2, 1, 3]]
    parts = []
    for oc in range(0, out_c, 2):
        pair = swizzled[oc:oc + 2]  # (1 or 2, groups, 4)
        parts += [pair.transpose(1, 0, 2).reshape(-1), rows[oc:oc + 2, k4:].reshape(-1)]
    return np.concatenate(parts).astype(rows.dtype)


def dsp_depthwise(taps_c: np.ndarray, bias: np.ndarray, input_offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias of a depth-multiplier-1 DEPTHWISE_CONV_2D as the DSP kernel reads them
    (``dw_m1_dsp``, mf_conv_dsp.h): per group of four channels, tap after tap, four bytes each; then
    each of the last (channels mod 4) channels tap after tap (a permutation: no flash growth). The
    bias absorbs the input offset over every tap, wrapping like the kernel's int32 sums:
    bias + offset * sum(w), so that padding taps read the zero point."""
    w = np.ascontiguousarray(taps_c).reshape(-1, taps_c.shape[-1])  # [taps][C]
    c4 = w.shape[1] // 4 * 4
    groups = w[:, :c4].reshape(w.shape[0], -1, 4).transpose(1, 0, 2).reshape(-1)
    layout = np.concatenate([groups, w[:, c4:].T.reshape(-1)]).astype(w.dtype)
    return layout, folded_bias(bias, w.T, input_offset)


def folded_bias(bias: np.ndarray, rows: np.ndarray, input_offset: int) -> np.ndarray:
    """bias + input_offset * (sum of each output channel's weight row), wrapped to int32 like
    the kernels' int32 sums: the bias of kernels that add x * w over every tap of a window
    whose padding taps hold the zero point (their (zero_point + offset) * w is 0)."""
    return _wrap_int32(bias.astype(np.int64) + input_offset * rows.astype(np.int64).sum(axis=1))


def _wrap_int32(values: np.ndarray) -> np.ndarray:
    return ((values.astype(np.int64) + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def _emit(ctx: OpContext, params: AnyConvParams, e: EmitContext, weights: np.ndarray, depth_multiplier: int,
          fn: str, pointwise: bool = False, dsp_layout: np.ndarray | None = None,
          dsp_bias: np.ndarray | None = None, mve_layout: np.ndarray | None = None,
          mve_bias: np.ndarray | None = None) -> None:
    c = _common(ctx, params)
    fields = {k: v for k, v in c.items() if not k.startswith("_")}
    fields["depth_multiplier"] = depth_multiplier
    fields["pointwise"] = int(pointwise)
    w = np.ascontiguousarray(weights)
    w_variants = [] if dsp_layout is None else [("MF_USE_DSP", dsp_layout)]
    if mve_layout is not None:
        w_variants.insert(0, ("MF_USE_MVE", np.ascontiguousarray(mve_layout).reshape(w.shape)))
    sse2 = fn == "mf_conv_s8" and mve_layout is not None  # the SSE2 matrix product reads Helium's
    if sse2:
        w_variants.append(("MF_SIMD_SSE2", np.ascontiguousarray(mve_layout).reshape(w.shape)))
    fields["weights"] = Raw(e.const_by_variants("w", w, w_variants) if w_variants else e.const("w", w))
    bias = _check_int32(ctx, c["_bias"], "bias")
    b_variants = [(g, v) for g, v in (("MF_USE_MVE", mve_bias), ("MF_USE_DSP", dsp_bias),
                                      ("MF_SIMD_SSE2", mve_bias if sse2 else None)) if v is not None]
    fields["bias"] = Raw(e.const_by_variants("bias", bias, b_variants) if b_variants
                         else e.const("bias", bias))
    fields["multiplier"] = Raw(e.const("mult", c["_multiplier"]))
    fields["left_shift"] = Raw(e.const("lshift", c["_left"]))
    fields["right_shift"] = Raw(e.const("rshift", c["_right"]))
    p = e.params("mf_conv_s8_params", fields)
    if fn == "mf_conv_s8":
        col = f"(int16_t *){e.scratch()}" if dsp_layout is not None else "NULL"
        e.call(f"{fn}({p}, {e.input_ptr(0)}, {e.output_ptr()}, {col});")
    else:
        e.call(f"{fn}({p}, {e.input_ptr(0)}, {e.output_ptr()});")
    e.use("mf_conv")


def _block_steps(ctx: OpContext, params: AnyConvParams, channel_of_block) -> OpMemory:
    """(pixel, block of channels) steps in order: reads of a step precede its writes."""
    out_c = ctx.output().shape[3]
    starts = np.arange(0, out_c, BLOCK, dtype=np.int64)
    sizes = np.minimum(BLOCK, out_c - starts)
    first = _first_read(ctx, params)[:, None] + channel_of_block(starts)[None, :]
    pixel = np.arange(first.shape[0], dtype=np.int64)[:, None] * out_c
    ends = pixel + starts[None, :] + sizes[None, :]
    return OpMemory(inplace=True, inplace_shift=max_safe_shift(first, ends))


def _check_int32(ctx: OpContext, values: np.ndarray, what: str) -> np.ndarray:
    if values.size and (values.min() < -(1 << 31) or values.max() >= (1 << 31)):
        raise ctx.unsupported(f"{what} does not fit int32")
    return values.astype(np.int32)


@c_emitter("CONV_2D")
class Conv2DEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: AnyConvParams) -> OpMemory:
        if params.kind == "float":
            return OpMemory()
        out_c = ctx.output().shape[3]
        if _pointwise(ctx, params):  # one step per pixel: the pixel is copied before any write
            in_c = ctx.input(0).shape[3]
            pixels = np.arange(ctx.output().size // out_c, dtype=np.int64)
            mem = OpMemory(inplace=True,
                           inplace_shift=max_safe_shift(pixels * in_c, (pixels + 1) * out_c))
        else:  # every block reads all in_c
            mem = _block_steps(ctx, params, lambda starts: np.zeros_like(starts))
        if not _matmul(ctx):
            return mem
        # the DSP matrix product: steps of two pixels, both windows read before any write
        first = _first_read(ctx, params)
        pixels = first.size
        starts = np.arange(0, pixels, 2, dtype=np.int64)
        firsts = np.minimum(first[starts], first[np.minimum(starts + 1, pixels - 1)])
        pairs = max_safe_shift(firsts, np.minimum(starts + 2, pixels) * out_c)
        return OpMemory(inplace=True, inplace_shift=min(mem.inplace_shift, pairs),
                        scratch=col_bytes(_window(ctx)))

    def emit(self, ctx: OpContext, params: AnyConvParams, e: EmitContext) -> None:
        _int8_only(ctx, params)
        w = _ohwi(ctx)
        if w.shape[3] != ctx.input(0).shape[3]:
            raise ctx.unsupported("grouped convolution has no C kernel yet")
        matmul = _matmul(ctx)
        dsp = dsp_weights(w) if matmul else None
        # Helium: OHWI rows and the input offset folded into the bias (mf_conv_mve.h)
        mve = w.reshape(w.shape[0], -1) if matmul else None
        mve_bias = None
        if matmul:
            c = _common(ctx, params)
            mve_bias = folded_bias(_check_int32(ctx, c["_bias"], "bias"), mve, c["input_offset"])
        if _pointwise(ctx, params):
            _emit(ctx, params, e, w.reshape(w.shape[0], w.shape[3]), 1, "mf_conv_s8", True, dsp,
                  mve_layout=mve, mve_bias=mve_bias)
        else:  # [kh][kw][ic][oc]
            _emit(ctx, params, e, w.transpose(1, 2, 3, 0), 1, "mf_conv_s8", dsp_layout=dsp,
                  mve_layout=mve, mve_bias=mve_bias)


CONV = Conv2DEmitter()


def _one_channel(ctx: OpContext) -> bool:
    """A DEPTHWISE_CONV_2D of a one-channel input with a depth multiplier above 1 (person_detect's
    and micro_speech's first layers), which runs as the CONV_2D it equals (:func:`_ohwi`): the
    matrix-product kernels (DSP, Helium, SSE2) instead of the generic depthwise loops."""
    return ctx.input(0).shape[3] == 1 and ctx.output().shape[3] > 1


@c_emitter("DEPTHWISE_CONV_2D")
class DepthwiseConv2DEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: AnyConvParams) -> OpMemory:
        if params.kind == "float":
            return OpMemory()
        if _one_channel(ctx):
            return CONV.memory(ctx, params)
        m = ctx.output().shape[3] // ctx.input(0).shape[3]
        return _block_steps(ctx, params, lambda starts: starts // m)

    def emit(self, ctx: OpContext, params: AnyConvParams, e: EmitContext) -> None:
        _int8_only(ctx, params)
        if _one_channel(ctx):
            CONV.emit(ctx, params, e)
            return
        w = ctx.input(1)
        m = ctx.output().shape[3] // ctx.input(0).shape[3]
        taps_c = w.data.reshape(w.shape[1], w.shape[2], -1)
        if m != 1:
            _emit(ctx, params, e, taps_c, m, "mf_depthwise_conv_s8")
            return
        c = _common(ctx, params)
        layout, bias = dsp_depthwise(taps_c, _check_int32(ctx, c["_bias"], "bias"), c["input_offset"])
        # Helium reads the portable layout; the DSP and Helium kernels both take the folded bias
        _emit(ctx, params, e, taps_c, m, "mf_depthwise_conv_s8", dsp_layout=layout, dsp_bias=bias,
              mve_layout=taps_c)
