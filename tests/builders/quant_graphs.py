"""Small float graphs for the quantizer's range search, bias correction, learned rounding and
mixed-precision tests: a conv -> depthwise -> ADD -> FC chain with biased, skewed activations."""

from __future__ import annotations

import numpy as np

from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder

F32 = np.float32


def conv_options(stride: int = 1, padding: int = 0, dilation: int = 1, **more) -> dict:
    return {"padding": padding, "stride_w": stride, "stride_h": stride,
            "dilation_w_factor": dilation, "dilation_h_factor": dilation, **more}


def single_layer(opcode: str, stride: int = 1, padding: int = 0, dilation: int = 1,
                 multiplier: int = 1, seed: int = 0) -> Graph:
    """x [1, 9, 8, 3] -> one CONV_2D / DEPTHWISE_CONV_2D (or x [1, 12] -> FULLY_CONNECTED), no
    activation."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    if opcode == "FULLY_CONNECTED":
        x = b.input("x", (1, 12), F32)
        w = b.const("w", rng.normal(size=(5, 12)).astype(F32))
        bias = b.const("b", rng.normal(size=5).astype(F32))
        y = b.tensor("y", (1, 5), F32)
        b.op(opcode, [x, w, bias], [y], fused_activation_function=0)
        b.output(y)
        return b.build()
    x = b.input("x", (1, 9, 8, 3), F32)
    out_c = 4 if opcode == "CONV_2D" else 3 * multiplier
    shape = (4, 3, 3, 3) if opcode == "CONV_2D" else (1, 3, 3, out_c)
    w = b.const("w", rng.normal(size=shape).astype(F32))
    bias = b.const("b", rng.normal(size=out_c).astype(F32))
    extent = 2 * dilation + 1
    size = [(n + stride - 1) // stride if padding == 0 else (n - extent + stride) // stride
            for n in (9, 8)]
    y = b.tensor("y", (1, size[0], size[1], out_c), F32)
    options = conv_options(stride, padding, dilation)
    if opcode == "DEPTHWISE_CONV_2D":
        options["depth_multiplier"] = multiplier
    b.op(opcode, [x, w, bias], [y], fused_activation_function=0, **options)
    b.output(y)
    return b.build()


def chain(seed: int = 0) -> Graph:
    """x [1, 8, 8, 3] -> CONV_2D 3x3 (RELU) -> DEPTHWISE_CONV_2D 3x3 -> ADD with the conv output
    -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX; weights of varied magnitude so rounding matters."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    x = b.input("x", (1, 8, 8, 3), F32)
    w1 = b.const("w1", (rng.normal(size=(8, 3, 3, 3)) * rng.uniform(0.05, 1, (8, 1, 1, 1))).astype(F32))
    c1 = b.tensor("conv", (1, 8, 8, 8), F32)
    b.op("CONV_2D", [x, w1, b.const("b1", rng.normal(0.5, 0.3, 8).astype(F32))], [c1],
         fused_activation_function=1, **conv_options())
    w2 = b.const("w2", rng.normal(0, 0.4, (1, 3, 3, 8)).astype(F32))
    c2 = b.tensor("dw", (1, 8, 8, 8), F32)
    b.op("DEPTHWISE_CONV_2D", [c1, w2, b.const("b2", rng.normal(size=8).astype(F32))], [c2],
         fused_activation_function=0, **conv_options(depth_multiplier=1))
    s = b.tensor("sum", (1, 8, 8, 8), F32)
    b.op("ADD", [c1, c2], [s], fused_activation_function=0)
    flat = b.tensor("flat", (1, 512), F32)
    b.op("RESHAPE", [s, b.const("shape", np.array([1, 512], np.int32))], [flat])
    w3 = b.const("w3", rng.normal(0, 0.05, (6, 512)).astype(F32))
    logits = b.tensor("logits", (1, 6), F32)
    b.op("FULLY_CONNECTED", [flat, w3, b.const("b3", rng.normal(size=6).astype(F32))], [logits],
         fused_activation_function=0)
    probs = b.tensor("probs", (1, 6), F32)
    b.op("SOFTMAX", [logits], [probs], beta=1.0)
    b.output(probs)
    return b.build()


def skewed_inputs(shape: tuple[int, ...], n: int = 256, seed: int = 0) -> np.ndarray:
    """Positive-mean inputs with a heavy tail: a few large outliers, as real activations have."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.3, 1.0, (n,) + shape)
    x += rng.standard_t(3, (n,) + shape) * 0.3
    return x.astype(F32)
