"""Elementwise operators, activations, batch normalization and softmax.

Broadcasting operands are laid out like the activation operand: a constant is padded to its rank
with leading 1s (numpy's rule) and transposed by the activation's layout, so a per-channel
(1, C, 1, 1) constant becomes (1, 1, 1, C) beside an NHWC tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from microforge.frontends.onnx.attrs import attrs
from microforge.frontends.onnx.context import Context
from microforge.frontends.onnx.layout import permute
from microforge.frontends.onnx.registry import converter
from microforge.ir import Activation, Operator, op_def

_BINARY = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "DIV"}
_WEIGHTED = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}  # output-channel axis


def operands(ctx: Context, names: list[str]) -> tuple[list[int], tuple[int, ...], tuple[int, ...]]:
    """IR tensors of broadcasting operands in one layout, the ONNX result shape and that layout
    (the first activation operand's)."""
    shapes = [ctx.value(n).shape for n in names]
    try:
        out_shape = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ctx.error(f"operand shapes {shapes} do not broadcast") from None
    rank = len(out_shape)
    names = [_full_rank(ctx, n, rank) for n in names]
    acts = [ctx.value(n) for n in names if ctx.const(n) is None]
    if not acts:
        raise ctx.unsupported("no operand is computed at run time")
    perm = acts[0].perm
    indices = []
    for n in names:
        data = ctx.const(n)
        if data is None:
            indices.append(ctx.tensor(n, perm))
            continue
        data = np.asarray(data, np.float32)
        data = data.reshape((1,) * (rank - data.ndim) + data.shape).transpose(perm)
        indices.append(ctx.builder.const(n, data))
    return indices, out_shape, perm


def _full_rank(ctx: Context, name: str, rank: int) -> str:
    """A run-time operand of lower rank, RESHAPEd to ``rank`` with leading 1s (numpy's rule)."""
    v = ctx.value(name)
    if v.data is not None or len(v.shape) == rank:
        return name
    padded = (1,) * (rank - len(v.shape)) + v.shape
    full = f"{name}/rank{rank}"
    if full not in ctx.values:
        x = ctx.tensor(name)
        ctx.op("RESHAPE", [x, ctx.int32(f"{full}/shape", padded)], [ctx.define(full, padded)],
               new_shape=list(padded))
    return full


@converter(*_BINARY)
def binary(ctx: Context, node: Any) -> None:
    if node.op_type == "Add" and _bias_add(ctx, node):
        return
    ins, shape, perm = operands(ctx, list(node.input[:2]))
    ctx.op(_BINARY[node.op_type], ins, [ctx.define(node.output[0], shape, perm)])


def _bias_add(ctx: Context, node: Any) -> bool:
    """``MatMul`` + ``Add`` of a constant vector along the output features (torch's Linear on
    a 3-D input): the vector becomes the FULLY_CONNECTED bias, as in the TFLite converter."""
    names = list(node.input[:2])
    consts = [ctx.const(n) for n in names]
    if sum(c is not None for c in consts) != 1:
        return False
    k = 0 if consts[0] is not None else 1
    vector, source = np.asarray(consts[k]), names[1 - k]
    shape = ctx.value(source).shape
    if vector.size != shape[-1] or vector.shape[-1:] != shape[-1:] or vector.ndim > len(shape):
        return False

    def fc(op: Operator) -> bool:
        return (op.opcode == "FULLY_CONNECTED" and _fusable(op)
                and ctx.builder.tensors[op.inputs[2]].data is not None)

    op = ctx.absorb(source, node.output[0], fc)
    if op is None:
        return False
    bias = ctx.builder.tensors[op.inputs[2]]
    bias.data = (bias.data + vector.reshape(-1).astype(np.float32)).astype(np.float32)
    return True


@converter("PRelu")
def prelu(ctx: Context, node: Any) -> None:
    ins, shape, perm = operands(ctx, list(node.input[:2]))
    ctx.op("PRELU", ins, [ctx.define(node.output[0], shape, perm)])


def unary(ctx: Context, node: Any, opcode: str, **options: Any) -> int:
    v = ctx.value(node.input[0])
    out = ctx.define(node.output[0], v.shape, v.perm)
    ctx.op(opcode, [ctx.tensor(node.input[0], v.perm)], [out], **options)
    return out


def _fusable(op: Operator) -> bool:
    row = op_def(op.opcode)
    return (row is not None and row.fused_activation
            and op.options.get("fused_activation_function", Activation.NONE) == Activation.NONE)


def activation(ctx: Context, node: Any, opcode: str) -> None:
    """A ReLU-family activation: folded into its producer's fused activation when the producer
    has the slot and nothing else reads its output (what the TFLite converter emits), else its
    own operator."""
    fused = op_def(opcode).as_activation
    op = ctx.absorb(node.input[0], node.output[0], _fusable)
    if op is not None:
        op.options["fused_activation_function"] = fused
        return
    unary(ctx, node, opcode)


@converter("Relu")
def relu(ctx: Context, node: Any) -> None:
    activation(ctx, node, "RELU")


@converter("Clip")
def clip(ctx: Context, node: Any) -> None:
    """Clip(0, 6) -> RELU6, Clip(0, inf) -> RELU, anything else MAXIMUM / MINIMUM with constants
    (RELU_N1_TO_1 has no standalone kernel)."""
    a = attrs(node)
    lo, hi = a.get("min"), a.get("max")
    if len(node.input) > 1 and node.input[1]:
        lo = float(ctx.need_const(node.input[1], "Clip's min"))
    if len(node.input) > 2 and node.input[2]:
        hi = float(ctx.need_const(node.input[2], "Clip's max"))
    if lo == 0 and hi == 6:
        return activation(ctx, node, "RELU6")
    if lo == 0 and (hi is None or np.isinf(hi)):
        return activation(ctx, node, "RELU")
    clamp(ctx, node.input[0], node.output[0], lo, hi)


def clamp(ctx: Context, source: str, name: str, lo: float | None, hi: float | None) -> None:
    v = ctx.value(source)
    x = ctx.tensor(source, v.perm)
    steps = [(op, b) for op, b in (("MAXIMUM", lo), ("MINIMUM", hi)) if b is not None]
    if not steps:
        ctx.values[name] = v
        return
    for k, (opcode, bound) in enumerate(steps):
        last = k == len(steps) - 1
        y = (ctx.define(name, v.shape, v.perm) if last
             else ctx.temp(f"{name}/{opcode.lower()}", permute(v.shape, v.perm)))
        bound_t = ctx.float32(f"{name}/{opcode.lower()}_bound", np.full((1,) * len(v.shape), bound))
        ctx.op(opcode, [x, bound_t], [y])
        x = y


@converter("LeakyRelu")
def leaky_relu(ctx: Context, node: Any) -> None:
    unary(ctx, node, "LEAKY_RELU", alpha=float(attrs(node).get("alpha", 0.01)))


@converter("Sigmoid")
def sigmoid(ctx: Context, node: Any) -> None:
    unary(ctx, node, "LOGISTIC")


@converter("Tanh")
def tanh(ctx: Context, node: Any) -> None:
    unary(ctx, node, "TANH")


@converter("HardSwish")
def hard_swish(ctx: Context, node: Any) -> None:
    unary(ctx, node, "HARD_SWISH")


@converter("HardSigmoid")
def hard_sigmoid(ctx: Context, node: Any) -> None:
    """max(0, min(1, alpha * x + beta)) as MUL, ADD, MAXIMUM, MINIMUM."""
    a = attrs(node)
    v = ctx.value(node.input[0])
    shape = permute(v.shape, v.perm)
    ones = (1,) * len(shape)
    scaled = ctx.temp(f"{node.output[0]}/scaled", shape)
    ctx.op("MUL", [ctx.tensor(node.input[0], v.perm),
                   ctx.float32(f"{node.output[0]}/alpha", np.full(ones, a.get("alpha", 0.2)))], [scaled])
    shifted = f"{node.output[0]}/shifted"
    ctx.op("ADD", [scaled, ctx.float32(f"{node.output[0]}/beta", np.full(ones, a.get("beta", 0.5)))],
           [ctx.define(shifted, v.shape, v.perm)])
    clamp(ctx, shifted, node.output[0], 0.0, 1.0)


@converter("Softmax")
def softmax(ctx: Context, node: Any) -> None:
    """SOFTMAX normalizes the IR's last axis: the value is laid out so that ONNX's ``axis`` is
    last (a TRANSPOSE only when it is not already)."""
    v = ctx.value(node.input[0])
    rank = len(v.shape)
    axis = int(attrs(node).get("axis", -1)) % rank
    perm = v.perm if v.perm[-1] == axis else tuple(p for p in v.perm if p != axis) + (axis,)
    out = ctx.define(node.output[0], v.shape, perm)
    ctx.op("SOFTMAX", [ctx.tensor(node.input[0], perm)], [out], beta=1.0)


@converter("BatchNormalization")
def batch_norm(ctx: Context, node: Any) -> None:
    """Inference batch norm ``(x - mean) / sqrt(var + eps) * scale + bias``: folded into the
    weights and bias of the convolution or FC that produces x (when nothing else reads it), else
    a MUL and an ADD by per-channel constants."""
    eps = float(attrs(node).get("epsilon", 1e-5))
    scale, bias, mean, var = (ctx.need_const(n, "batch norm parameters").astype(np.float64)
                              for n in node.input[1:5])
    mul = scale / np.sqrt(var + eps)
    add = bias - mean * mul
    v = ctx.value(node.input[0])
    if len(v.shape) >= 2 and v.perm[-1] == 1 and _fold(ctx, node, mul, add):
        return
    shape = (1, -1) + (1,) * (len(v.shape) - 2)
    ctx.set_const(f"{node.output[0]}/mul", mul.astype(np.float32).reshape(shape))
    ctx.set_const(f"{node.output[0]}/add", add.astype(np.float32).reshape(shape))
    scaled = f"{node.output[0]}/scaled"
    ins, out_shape, perm = operands(ctx, [node.input[0], f"{node.output[0]}/mul"])
    ctx.op("MUL", ins, [ctx.define(scaled, out_shape, perm)])
    ins, out_shape, perm = operands(ctx, [scaled, f"{node.output[0]}/add"])
    ctx.op("ADD", ins, [ctx.define(node.output[0], out_shape, perm)])


def _fold(ctx: Context, node: Any, mul: np.ndarray, add: np.ndarray) -> bool:
    def weighted(op: Operator) -> bool:
        return (op.opcode in _WEIGHTED and _fusable(op)
                and ctx.builder.tensors[op.inputs[1]].data is not None)

    op = ctx.absorb(node.input[0], node.output[0], weighted)
    if op is None:
        return False
    tensors = ctx.builder.tensors
    axis = _WEIGHTED[op.opcode]
    w = tensors[op.inputs[1]]
    shape = [1] * w.data.ndim
    shape[axis] = -1
    w.data = (w.data.astype(np.float64) * mul.reshape(shape)).astype(np.float32)
    b = tensors[op.inputs[2]]
    b.data = (b.data.astype(np.float64) * mul + add).astype(np.float32)
    return True
