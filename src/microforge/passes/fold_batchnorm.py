"""Batch-norm folding: a MUL by, or an ADD / SUB of, a per-channel constant right after a float
CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED is folded into that operator's weights and bias.

``y = conv(x) * s`` becomes a conv with weights scaled by ``s`` along the output-channel axis (the
operator row's ``weight_axis``: 0 for CONV_2D and FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D) and
bias ``b * s``; ``y = conv(x) + c`` becomes bias ``b + c``. This is what an inference-mode batch
normalization after a layer turns into. The layer must have no fused activation and its output must
be read by that one operator only; the MUL/ADD's own fused activation moves onto the layer.
"""

from __future__ import annotations

import numpy as np

from microforge.ir import Activation, Graph, Role, Subgraph, op_def
from microforge.passes._graph import (
    add_constant,
    constant,
    consumers,
    remove_operators,
    sole_consumer,
)

_LAYER_INPUTS = (Role.DATA, Role.WEIGHTS, Role.BIAS)


def _channel_axis(opcode: str) -> int | None:
    """The output-channel axis of the weights of a (data, weights, bias) layer, else None."""
    row = op_def(opcode)
    if row is None or row.inputs != _LAYER_INPUTS:
        return None
    return row.weight_axis


def _per_channel(value: np.ndarray, channels: int, out_rank: int) -> np.ndarray | None:
    """``value`` as a (channels,) vector when it varies along the last axis only and does not
    broadcast the layer's output to a larger shape."""
    if value.dtype != np.float32 or value.ndim > out_rank:
        return None
    if value.size == 1:
        return np.full(channels, value.reshape(()), np.float32)
    if value.shape[-1] != channels or value.size != channels:
        return None
    return value.reshape(channels)


def _fold_one(sg: Subgraph, layer_index: int, readers: dict[int, list[int]]) -> int | None:
    """Fold the MUL/ADD/SUB after layer ``layer_index``; return that operator's index or None."""
    layer = sg.operators[layer_index]
    axis = _channel_axis(layer.opcode)
    if axis is None or layer.options.get("fused_activation_function", Activation.NONE):
        return None
    y = layer.outputs[0]
    out = sg.tensors[y]
    weights = constant(sg, layer.inputs[1])
    bias_idx = layer.inputs[2] if len(layer.inputs) > 2 else -1
    bias = constant(sg, bias_idx) if bias_idx >= 0 else None
    if out.dtype != np.float32 or weights is None or weights.dtype != np.float32:
        return None
    if bias_idx >= 0 and (bias is None or bias.dtype != np.float32):
        return None
    next_index = sole_consumer(sg, y, readers)
    if next_index is None:
        return None
    nxt = sg.operators[next_index]
    if nxt.opcode not in ("MUL", "ADD", "SUB") or len(nxt.inputs) != 2:
        return None
    other = nxt.inputs[1] if nxt.inputs[0] == y else nxt.inputs[0]
    if other == y or (nxt.opcode == "SUB" and nxt.inputs[0] != y):
        return None
    if sg.tensors[nxt.outputs[0]].shape != out.shape:
        return None
    value = constant(sg, other)
    channels = weights.shape[axis]
    vector = None if value is None else _per_channel(value, channels, len(out.shape))
    if vector is None or out.shape[-1] != channels:
        return None
    b = np.zeros(channels, np.float32) if bias is None else bias.reshape(channels)
    w = weights
    if nxt.opcode == "MUL":
        shape = [1] * weights.ndim
        shape[axis] = channels
        w = (weights * vector.reshape(shape)).astype(np.float32)
        b = (b * vector).astype(np.float32)
    elif nxt.opcode == "ADD":
        b = (b + vector).astype(np.float32)
    else:
        b = (b - vector).astype(np.float32)
    w_name = sg.tensors[layer.inputs[1]].name
    b_name = sg.tensors[bias_idx].name if bias_idx >= 0 else f"{out.name}/bias"
    inputs = list(layer.inputs) + [-1] * (3 - len(layer.inputs))
    inputs[1] = add_constant(sg, w_name, w)
    inputs[2] = add_constant(sg, b_name, b)
    layer.inputs = inputs
    layer.outputs = [nxt.outputs[0]]
    layer.options["fused_activation_function"] = nxt.options.get("fused_activation_function",
                                                                 Activation.NONE)
    return next_index


def fold_batchnorm(graph: Graph) -> tuple[Graph, bool]:
    """Fold per-channel MUL / ADD / SUB by constants into the preceding conv or FC."""
    sg = graph.main
    removed: set[int] = set()
    for i in range(len(sg.operators)):
        if i in removed:
            continue
        folded = _fold_one(sg, i, consumers(sg))
        if folded is not None:
            removed.add(folded)
    remove_operators(sg, removed)
    return graph, bool(removed)
