"""Activation fusion: a float RELU, RELU_N1_TO_1 or RELU6 right after an operator that has a fused
activation slot (conv, depthwise conv, FC, ADD/SUB/MUL/DIV, pooling) becomes that slot. Both sets
are the operator table's: rows with ``fused_activation`` and rows with ``as_activation``.

Quantized, the fused form is exact and cheaper: the clamp happens on the output range instead of a
separate requantizing step, and the producer's output range is the activation's. The producer's
output must be read by the activation only, and not be a graph output.
"""

from __future__ import annotations

import numpy as np

from microforge.ir import Activation, Graph, op_def
from microforge.passes._graph import consumers, remove_operators, sole_consumer


def _fusable(opcode: str) -> bool:
    """The operator has a fused activation slot (its row's ``fused_activation``)."""
    row = op_def(opcode)
    return row is not None and row.fused_activation


def _activation(opcode: str) -> Activation | None:
    """The fused activation a standalone activation operator equals (its row's ``as_activation``)."""
    row = op_def(opcode)
    return None if row is None else row.as_activation


def fuse_activation(graph: Graph) -> tuple[Graph, bool]:
    """Fold standalone ReLU-family activations into their producer's fused activation."""
    sg = graph.main
    removed: set[int] = set()
    for i, op in enumerate(sg.operators):
        if i in removed or not _fusable(op.opcode) or op.custom or len(op.outputs) != 1:
            continue
        if op.options.get("fused_activation_function", Activation.NONE) != Activation.NONE:
            continue
        y = op.outputs[0]
        if sg.tensors[y].dtype != np.float32:
            continue
        nxt_index = sole_consumer(sg, y, consumers(sg))
        activation = None if nxt_index is None else _activation(sg.operators[nxt_index].opcode)
        if activation is None:
            continue
        nxt = sg.operators[nxt_index]
        op.options["fused_activation_function"] = activation
        op.outputs = [nxt.outputs[0]]
        removed.add(nxt_index)
    remove_operators(sg, removed)
    return graph, bool(removed)
