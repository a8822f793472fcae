"""One-operator int8/int16/int32 graphs for the per-NPU-operation tests of the Ethos-U emulator
(``tests/runtime/ethos_u/test_npu_ops.py``): each is handed to Vela, its command stream emulated
and compared with microforge's runtime on the same one-operator graph."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder

# (scale, zero point) of an activation tensor per dtype: int16 tensors are symmetric, as TFLite's
# 16x8 quantization makes them; int32 tensors carry no quantization (plain integers)
Q = tuple[float | None, int | None]


def quant(dtype, scale: float, zero_point: int = 0) -> Q:
    if np.dtype(dtype) == np.int32:
        return (None, None)
    return (scale, 0 if np.dtype(dtype) == np.int16 else zero_point)


def unary(opcode: str, shape, dtype, qin: Q, qout: Q, out_dtype=None, **options) -> Graph:
    """``opcode`` on one input (LOGISTIC, TANH, LEAKY_RELU, ABS, EXP, HARD_SWISH, QUANTIZE...)."""
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *qin)
    y = b.tensor("y", shape, out_dtype or dtype, *qout)
    b.op(opcode, [x], [y], **options)
    b.output(y)
    return b.build()


def binary(opcode: str, shape_a, shape_b, dtype, qa: Q, qb: Q, qout: Q, **options) -> Graph:
    """``opcode`` on two inputs, broadcasting ``shape_a`` against ``shape_b`` (numpy rules)."""
    b = GraphBuilder()
    x = b.input("a", shape_a, dtype, *qa)
    y = b.input("b", shape_b, dtype, *qb)
    out_shape = np.broadcast_shapes(tuple(shape_a), tuple(shape_b))
    z = b.tensor("z", out_shape, dtype, *qout)
    b.op(opcode, [x, y], [z], **options)
    b.output(z)
    return b.build()


def pool(opcode: str, shape, dtype, q: Q, qout: Q, filt: tuple[int, int], stride: tuple[int, int],
         padding: int, act: int = 0) -> Graph:
    """MAX_POOL_2D / AVERAGE_POOL_2D (``padding``: the IR's Padding value, SAME 0 / VALID 1)."""
    n, h, w, c = shape
    if padding == 0:
        oh, ow = -(-h // stride[0]), -(-w // stride[1])
    else:
        oh, ow = (h - filt[0]) // stride[0] + 1, (w - filt[1]) // stride[1] + 1
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *q)
    y = b.tensor("y", (n, oh, ow, c), dtype, *qout)
    b.op(opcode, [x], [y], padding=padding, stride_h=stride[0], stride_w=stride[1],
         filter_height=filt[0], filter_width=filt[1], fused_activation_function=act)
    b.output(y)
    return b.build()


def reduce(opcode: str, shape, axes, dtype, q: Q, qout: Q, keep_dims: bool = True) -> Graph:
    """SUM / MEAN over ``axes`` (a constant int32 axis tensor)."""
    out = tuple(1 if i in axes else d for i, d in enumerate(shape))
    if not keep_dims:
        out = tuple(d for i, d in enumerate(shape) if i not in axes)
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *q)
    a = b.const("axes", np.array(axes, dtype=np.int32))
    y = b.tensor("y", out, dtype, *qout)
    b.op(opcode, [x, a], [y], keep_dims=keep_dims)
    b.output(y)
    return b.build()


def resize(opcode: str, shape, size: tuple[int, int], dtype, q: Q, **options) -> Graph:
    """RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR to ``size`` (same quantization in and out)."""
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *q)
    s = b.const("size", np.array(size, dtype=np.int32))
    y = b.tensor("y", (shape[0],) + tuple(size) + (shape[3],), dtype, *q)
    b.op(opcode, [x, s], [y], **options)
    b.output(y)
    return b.build()


def transpose_conv(shape, c_out: int, k: int, stride: int, padding: int, dtype, seed: int) -> Graph:
    """TRANSPOSE_CONV (Vela: the IFM upscaled by zero insertion, then a convolution)."""
    rng = np.random.default_rng(seed)
    n, h, w, c = shape
    oh, ow = (h * stride, w * stride) if padding == 0 else ((h - 1) * stride + k, (w - 1) * stride + k)
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *quant(dtype, 0.05, 3))
    weights = rng.integers(-127, 128, (c_out, k, k, c)).astype(np.int8)
    wt = b.const("w", weights, scale=np.full(c_out, 0.01, np.float32), zero_point=0, axis=0)
    os_ = b.const("output_shape", np.array([n, oh, ow, c_out], dtype=np.int32))
    bias_dtype = np.int64 if np.dtype(dtype) == np.int16 else np.int32
    bias = b.const("bias", rng.integers(-300, 300, c_out).astype(bias_dtype),
                   scale=np.full(c_out, 0.05 * 0.01, np.float32), zero_point=0, axis=0)
    y = b.tensor("y", (n, oh, ow, c_out), dtype, *quant(dtype, 0.2, -2))
    b.op("TRANSPOSE_CONV", [os_, wt, x, bias], [y], padding=padding, stride_h=stride, stride_w=stride)
    b.output(y)
    return b.build()


def softmax(shape, dtype, beta: float = 1.0) -> Graph:
    """SOFTMAX (Vela's int8 sequence: exp LUT, reduce sum, CLZ, SHL, SHR, 32-bit MUL/ADD/SUB;
    int16: the 16-bit exp and 1/(1+x) LUTs)."""
    qin = quant(dtype, 0.1 if np.dtype(dtype) == np.int8 else 0.001, -5)
    qout = (1 / 256, -128) if np.dtype(dtype) == np.int8 else (1 / 32768, 0)
    return unary("SOFTMAX", shape, dtype, qin, qout, beta=beta)


@dataclass(frozen=True)
class Emitted:
    """One NPU operation of a command stream, with the register fields the tests look for."""

    op: str  # CONV, DEPTHWISE, POOL, ELEMENTWISE, DMA_START
    mode: int  # POOL / ELEMENTWISE mode (the command's parameter)
    ifm: int  # IFM_PRECISION bits 0-3 (1 S8, 5 S16, 9 S32)
    ofm: int  # OFM_PRECISION bits 0-2 (1 S8, 3 S16, 5 S32)
    rounding: int  # OFM_PRECISION bits 14-15 (0 TFL, 1 TRUNCATE, 2 NATURAL)
    activation: int  # ACTIVATION bits 0-11 (0 none, 3 TANH, 4 SIGMOID, 16.. table)
    upscale: int  # IFM_UPSCALE
    broadcast: int  # IFM2_BROADCAST
    padded: bool  # any IFM_PAD_* set


def emitted(npu) -> list[Emitted]:
    """The NPU operations of every ``ethos-u`` operator of Vela's model, in stream order."""
    from microforge.backends.ethos_u.memory import ETHOS_U
    from microforge.runtime.ethos_u import parse_payload

    sg = npu.optimized.main
    out = []
    for op in sg.operators:
        if op.opcode != ETHOS_U:
            continue
        r: dict[str, int] = {}
        for c in parse_payload(sg.tensors[op.inputs[0]].data.tobytes()).commands:
            if c.data is None and c.name.startswith("NPU_SET_"):
                r[c.name[8:]] = c.param
            elif c.name.startswith("NPU_OP_") and "WAIT" not in c.name and c.name != "NPU_OP_STOP":
                pads = ("IFM_PAD_TOP", "IFM_PAD_LEFT", "IFM_PAD_BOTTOM", "IFM_PAD_RIGHT")
                out.append(Emitted(c.name[7:], c.param, r.get("IFM_PRECISION", 0) & 0xF,
                                   r.get("OFM_PRECISION", 0) & 0x7, (r.get("OFM_PRECISION", 0) >> 14) & 3,
                                   r.get("ACTIVATION", 0) & 0xFFF, r.get("IFM_UPSCALE", 0),
                                   r.get("IFM2_BROADCAST", 0), any(r.get(p, 0) for p in pads)))
    return out
