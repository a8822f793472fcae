"""The demo model the package builds itself: a small int8 DS-CNN keyword-spotter shape.

Weights are seeded random numbers (the demo shows the pipeline, not accuracy); quantization scales are
chosen from the propagated activation spread so no layer saturates.
"""

from __future__ import annotations

import numpy as np

from microforge.ir import Activation, Graph, Padding
from microforge.ir.builder import GraphBuilder
from microforge.ir.ops import FullyConnectedWeightsFormat

LABELS = ["silence", "unknown", "yes", "no"]


def _weights(rng, shape, fan_in):
    w = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
    scale = np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127.0
    return w, scale.astype(np.float32)


def _per_channel_last(rng, shape, fan_in):
    w = rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=shape)
    scale = np.abs(w).reshape(-1, w.shape[-1]).max(axis=0) / 127.0
    return w, scale.astype(np.float32)


def build_demo_graph(seed: int = 7) -> Graph:
    """Input int8 [1,49,10,1] features → conv 3×3/2 → depthwise 3×3 → pointwise → avg pool →
    fully connected → softmax over four labels."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    s_in, zp_in = 0.05, -10
    x = b.input("features", (1, 49, 10, 1), np.int8, s_in, zp_in)

    # conv 3x3 stride 2, 16 channels, RELU
    w, ws = _weights(rng, (16, 3, 3, 1), 9)
    s1 = s_in * 127 * 1.0 * 3.0 / 127 * 1.5
    wq = np.round(w / ws[:, None, None, None]).astype(np.int8)
    bias = np.round(rng.normal(0, 0.1, 16) / (s_in * ws)).astype(np.int32)
    c1 = b.tensor("conv1", (1, 25, 5, 16), np.int8, s1, -128)
    b.op("CONV_2D", [x, b.const("conv1/w", wq, scale=ws, zero_point=np.zeros(16), axis=0),
                     b.const("conv1/b", bias, scale=s_in * ws, zero_point=np.zeros(16))],
         [c1], padding=Padding.SAME, stride_w=2, stride_h=2, fused_activation_function=Activation.RELU,
         dilation_w_factor=1, dilation_h_factor=1)

    # depthwise 3x3, RELU6
    w, ws = _per_channel_last(rng, (1, 3, 3, 16), 9)
    s2 = 6.0 / 255
    wq = np.round(w / ws).astype(np.int8)
    bias = np.zeros(16, np.int32)
    c2 = b.tensor("dw", (1, 25, 5, 16), np.int8, s2, -128)
    b.op("DEPTHWISE_CONV_2D", [c1, b.const("dw/w", wq, scale=ws, zero_point=np.zeros(16), axis=3),
                               b.const("dw/b", bias, scale=s1 * ws, zero_point=np.zeros(16))],
         [c2], padding=Padding.SAME, stride_w=1, stride_h=1, depth_multiplier=1,
         fused_activation_function=Activation.RELU6,
         dilation_w_factor=1, dilation_h_factor=1)

    # pointwise 1x1 to 32 channels, RELU
    w, ws = _weights(rng, (32, 1, 1, 16), 16)
    s3 = s2 * 4
    wq = np.round(w / ws[:, None, None, None]).astype(np.int8)
    c3 = b.tensor("pw", (1, 25, 5, 32), np.int8, s3, -128)
    b.op("CONV_2D", [c2, b.const("pw/w", wq, scale=ws, zero_point=np.zeros(32), axis=0),
                     b.const("pw/b", np.zeros(32, np.int32), scale=s2 * ws, zero_point=np.zeros(32))],
         [c3], padding=Padding.SAME, stride_w=1, stride_h=1, fused_activation_function=Activation.RELU,
         dilation_w_factor=1, dilation_h_factor=1)

    pool = b.tensor("pool", (1, 1, 1, 32), np.int8, s3, -128)
    b.op("AVERAGE_POOL_2D", [c3], [pool], padding=Padding.VALID, stride_w=5, stride_h=25,
         filter_width=5, filter_height=25, fused_activation_function=Activation.NONE)
    flat = b.tensor("flat", (1, 32), np.int8, s3, -128)
    b.op("RESHAPE", [pool, b.const("flat/shape", np.array([1, 32], np.int32))], [flat],
         new_shape=np.array([1, 32], np.int32))

    w, ws = _weights(rng, (4, 32), 32)
    wscale = float(ws.max())
    wq = np.round(w / wscale).astype(np.int8)
    s4 = 0.1
    logits = b.tensor("logits", (1, 4), np.int8, s4, 0)
    b.op("FULLY_CONNECTED", [flat, b.const("fc/w", wq, scale=wscale, zero_point=0),
                             b.const("fc/b", np.zeros(4, np.int32), scale=s3 * wscale, zero_point=0)],
         [logits], fused_activation_function=Activation.NONE,
         weights_format=FullyConnectedWeightsFormat.DEFAULT, keep_num_dims=False)
    probs = b.tensor("probabilities", (1, 4), np.int8, 1.0 / 256, -128)
    b.op("SOFTMAX", [logits], [probs], beta=1.0)
    b.output(probs)
    return b.build()
