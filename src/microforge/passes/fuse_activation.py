"""Activation fusion: a float RELU, RELU_N1_TO_1 or RELU6 right after an operator that has a fused
activation slot (conv, depthwise conv, FC, ADD/SUB/MUL/DIV, pooling) becomes that slot.

Quantized, the fused form is exact and cheaper: the clamp happens on the output range instead of a
separate requantizing step, and the producer's output range is the activation's. The producer's
output must be read by the activation only, and not be a graph output.
"""

from __future__ import annotations

import numpy as np

from microforge.ir import Graph
from microforge.passes._graph import consumers, remove_operators, sole_consumer

_FUSABLE = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "DIV",
            "AVERAGE_POOL_2D", "MAX_POOL_2D"}
_ACTIVATIONS = {"RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}


def fuse_activation(graph: Graph) -> tuple[Graph, bool]:
    """Fold standalone ReLU-family activations into their producer's fused activation."""
    sg = graph.main
    removed: set[int] = set()
    for i, op in enumerate(sg.operators):
        if i in removed or op.opcode not in _FUSABLE or op.custom or len(op.outputs) != 1:
            continue
        if int(op.options.get("fused_activation_function", 0)) != 0:
            continue
        y = op.outputs[0]
        if sg.tensors[y].dtype != np.float32:
            continue
        nxt_index = sole_consumer(sg, y, consumers(sg))
        if nxt_index is None or sg.operators[nxt_index].opcode not in _ACTIVATIONS:
            continue
        nxt = sg.operators[nxt_index]
        op.options["fused_activation_function"] = _ACTIVATIONS[nxt.opcode]
        op.outputs = [nxt.outputs[0]]
        removed.add(nxt_index)
    remove_operators(sg, removed)
    return graph, bool(removed)
