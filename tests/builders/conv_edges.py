"""Edge shapes for the Cortex-M convolution, depthwise and fully connected kernel variants (DSP and
Helium): odd channel counts and counts that are not multiples of 4 / 8 / 16, stride 2, padding on
every side (SAME with windows as large as the image and even kernels), dilation, a 1-channel
first convolution, depthwise layers of one input channel with depth multipliers 3 to 8 (which run
as convolutions), 1x1 convolutions with and without stride, depthwise layers across the 64-channel
block, a chain whose depthwise layer the planner runs in place, and per-channel requantization at
the extremes: multipliers within a few units of 2^31, left shifts up to 3 and right shifts down to
30, next to ordinary scales."""

from __future__ import annotations

import numpy as np

from microforge.ir.builder import GraphBuilder
from microforge.runtime.kernels.common import compute_padding
from tests.builders.c import merge

SAME, VALID = 0, 1
X_SCALE, Y_SCALE = 0.05, 0.1
# effective per-channel scales x_scale * w_scale / y_scale: multipliers near 2^31 (0.99999994,
# 1.9999999, 3.9999998 -> shifts 0, 1, 2), a left shift of 3, right shifts of 30 and 24, exact
# powers of two, ordinary values
EXTREME_SCALES = [0.99999994, 1.9999999, 3.9999998, 7.5, 0.75 * 2.0 ** -30, 2.0 ** -24, 0.5,
                  1e-3, 0.0123]

CONV = [  # (kernel, in H x W, in_c, out_c, padding, stride, dilation, input zero point)
    ((3, 3), (7, 9), 3, 5, SAME, 2, 1, None),     # 3-channel first conv, odd, stride 2
    ((5, 5), (3, 4), 7, 9, SAME, 1, 1, -128),     # window larger than the image: pads every side
    ((4, 4), (6, 6), 1, 6, SAME, 2, 1, 127),      # 1 input channel, even kernel (more pad after)
    ((10, 4), (12, 6), 1, 7, SAME, 2, 1, None),   # the DS-CNN first layer's window
    ((1, 1), (5, 3), 17, 7, VALID, 1, 1, None),   # pointwise, odd depths
    ((1, 1), (6, 6), 8, 4, VALID, 2, 1, None),    # 1x1 stride 2 (ResNet projection)
    ((3, 3), (5, 5), 12, 3, SAME, 1, 2, None),    # dilation
    ((3, 3), (4, 4), 20, 18, SAME, 1, 1, None),   # 16 + 4 inputs, 16 + 2 outputs
]
DEPTHWISE = [  # (kernel, in H x W, channels, padding, stride, dilation, input zero point)
    ((3, 3), (6, 5), 1, SAME, 1, 1, None),
    ((3, 3), (7, 7), 5, SAME, 2, 1, -128),
    ((3, 3), (5, 6), 12, SAME, 1, 1, 127),
    ((5, 5), (3, 3), 7, SAME, 1, 1, None),        # pads every side
    ((3, 2), (6, 7), 20, SAME, 2, 1, None),
    ((3, 3), (5, 5), 33, VALID, 1, 2, None),
    ((3, 3), (5, 4), 70, SAME, 1, 1, None),       # two channel blocks
    ((2, 2), (5, 5), 24, SAME, 2, 1, None),       # 16 + 8 channels
    ((4, 3), (6, 6), 9, SAME, 1, 1, None),
]
DEPTHWISE_ONE_CHANNEL = [  # (kernel, in H x W, depth multiplier, padding, stride, dilation, zero point)
    ((3, 3), (9, 9), 8, SAME, 2, 1, -1),          # person_detect's first layer
    ((10, 8), (13, 11), 8, SAME, 2, 1, -128),     # micro_speech's
    ((3, 3), (6, 7), 5, VALID, 1, 2, 127),        # odd multiplier, dilation
    ((2, 4), (5, 6), 3, SAME, 1, 1, None),
]
FULLY_CONNECTED = [(1, 7, 1), (2, 33, 5), (1, 16, 9), (3, 5, 6), (1, 64, 4)]  # rows, accum, depth


def _scales(c_out: int, offset: int) -> np.ndarray:
    """Weight scales giving the extreme effective scales, cycled over the channels."""
    eff = np.array([EXTREME_SCALES[(offset + i) % len(EXTREME_SCALES)] for i in range(c_out)])
    return (eff * Y_SCALE / X_SCALE).astype(np.float32)


def _conv(op: str, k, hw, c_in: int, c_out: int, pad: int, stride: int, dil: int, zp, seed: int,
          act: int = 0) -> GraphBuilder:
    rng = np.random.default_rng(seed)
    depthwise = op == "DEPTHWISE_CONV_2D"
    wshape = (1, *k, c_out) if depthwise else (c_out, *k, c_in)
    out_h, _ = compute_padding(pad, hw[0], k[0], stride, dil)
    out_w, _ = compute_padding(pad, hw[1], k[1], stride, dil)
    zp = int(rng.integers(-20, 20)) if zp is None else zp
    w_scales = _scales(c_out, seed)
    b = GraphBuilder()
    x = b.input("x", (1, *hw, c_in), np.int8, X_SCALE, zp)
    w = b.const("w", rng.integers(-127, 128, wshape).astype(np.int8), scale=w_scales, zero_point=0,
                axis=3 if depthwise else 0)
    bias = b.const("b", rng.integers(-3000, 3000, c_out).astype(np.int32), scale=X_SCALE * w_scales,
                   zero_point=0)
    y = b.tensor("y", (1, out_h, out_w, c_out), np.int8, Y_SCALE, int(rng.integers(-30, 30)))
    opts = {"padding": pad, "stride_h": stride, "stride_w": stride, "dilation_h_factor": dil,
            "dilation_w_factor": dil, "fused_activation_function": act}
    if depthwise:
        opts["depth_multiplier"] = c_out // c_in
    b.op(op, [x, w, bias], [y], **opts)
    b.output(y)
    return b


def _fully_connected(rows: int, accum: int, depth: int, seed: int) -> GraphBuilder:
    rng = np.random.default_rng(seed)
    w_scales = _scales(depth, seed)
    b = GraphBuilder()
    x = b.input("x", (rows, accum), np.int8, X_SCALE, int(rng.integers(-128, 128)))
    w = b.const("w", rng.integers(-127, 128, (depth, accum)).astype(np.int8), scale=w_scales,
                zero_point=0, axis=0)
    bias = b.const("b", rng.integers(-2000, 2000, depth).astype(np.int32), scale=X_SCALE * w_scales,
                   zero_point=0)
    y = b.tensor("y", (rows, depth), np.int8, Y_SCALE, int(rng.integers(-10, 10)))
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=0)
    b.output(y)
    return b


def inplace_chain(channels: int, seed: int = 0) -> GraphBuilder:
    """1x1 conv -> depthwise 3x3 -> depthwise 3x3 stride 2: the first depthwise layer's input dies
    there, and on its own (channels a multiple of 8) the planner runs it in place."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    shape = (1, 9, 8, channels)
    t = b.input("x", shape, np.int8, X_SCALE, 3)
    layers = [("CONV_2D", (1, 1), 1), ("DEPTHWISE_CONV_2D", (3, 3), 1), ("DEPTHWISE_CONV_2D", (3, 3), 2)]
    for i, (op, k, stride) in enumerate(layers):
        depthwise = op == "DEPTHWISE_CONV_2D"
        wshape = (1, *k, channels) if depthwise else (channels, *k, channels)
        w_scales = rng.uniform(0.01, 0.03, channels).astype(np.float32)
        w = b.const(f"w{i}", rng.integers(-127, 128, wshape).astype(np.int8), scale=w_scales,
                    zero_point=0, axis=3 if depthwise else 0)
        bias = b.const(f"b{i}", rng.integers(-3000, 3000, channels).astype(np.int32),
                       scale=X_SCALE * w_scales, zero_point=0)
        shape = (1, -(-shape[1] // stride), -(-shape[2] // stride), channels)
        y = b.tensor(f"y{i}", shape, np.int8, X_SCALE, int(rng.integers(-10, 10)))
        opts = {"padding": SAME, "stride_h": stride, "stride_w": stride, "dilation_h_factor": 1,
                "dilation_w_factor": 1, "fused_activation_function": 1}
        if depthwise:
            opts["depth_multiplier"] = 1
        b.op(op, [t, w, bias], [y], **opts)
        t = y
    b.output(t)
    return b


def edge_cases() -> GraphBuilder:
    """Every case above in one graph (outputs side by side)."""
    cases = [_conv("CONV_2D", *c, seed=i, act=i % 3) for i, c in enumerate(CONV)]
    cases += [_conv("DEPTHWISE_CONV_2D", k, hw, c, c, pad, stride, dil, zp, seed=20 + i, act=i % 2)
              for i, (k, hw, c, pad, stride, dil, zp) in enumerate(DEPTHWISE)]
    cases += [_conv("DEPTHWISE_CONV_2D", k, hw, 1, m, pad, stride, dil, zp, seed=30 + i, act=i % 2)
              for i, (k, hw, m, pad, stride, dil, zp) in enumerate(DEPTHWISE_ONE_CHANNEL)]
    cases += [_fully_connected(*f, seed=40 + i) for i, f in enumerate(FULLY_CONNECTED)]
    return merge(cases)
