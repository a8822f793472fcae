"""Multiply-accumulates of one invoke of the weighted operators, from the tensor shapes."""

from __future__ import annotations

import numpy as np

from microforge.ir.graph import Operator, Subgraph


def _shape(op: Operator, sg: Subgraph, k: int, out: bool = False) -> tuple[int, ...]:
    """The shape of input (output) ``k``; () when absent."""
    ids = op.outputs if out else op.inputs
    idx = ids[k] if k < len(ids) else -1
    return sg.tensors[idx].shape if idx >= 0 else ()


def _out_elems(op: Operator, sg: Subgraph) -> int:
    return int(np.prod(_shape(op, sg, 0, out=True))) if op.outputs else 0


def conv_macs(op: Operator, sg: Subgraph) -> int:
    """Output elements x (kernel height x width x input channels) of weights (O, H, W, I)."""
    return _out_elems(op, sg) * int(np.prod(_shape(op, sg, 1)[1:]))


def depthwise_macs(op: Operator, sg: Subgraph) -> int:
    """Output elements x kernel taps, weights (1, H, W, C)."""
    w = _shape(op, sg, 1)
    return _out_elems(op, sg) * w[1] * w[2]


def transpose_conv_macs(op: Operator, sg: Subgraph) -> int:
    """Input elements (input 2) x (output channels x kernel height x width) of weights (O, H, W, I)."""
    return int(np.prod(_shape(op, sg, 2))) * int(np.prod(_shape(op, sg, 1)[:3]))


def fully_connected_macs(op: Operator, sg: Subgraph) -> int:
    """Output elements x input depth."""
    return _out_elems(op, sg) * _shape(op, sg, 1)[-1]


def svdf_macs(op: Operator, sg: Subgraph) -> int:
    """Per batch row: the feature matrix (filters x input) plus the time matrix (filters x memory)."""
    features, time = _shape(op, sg, 1), _shape(op, sg, 2)
    return _shape(op, sg, 0)[0] * (features[0] * features[1] + time[0] * time[1])


def lstm_macs(op: Operator, sg: Subgraph) -> int:
    """Per time step (and batch row): every input-to-gate and recurrent-to-gate weight matrix."""
    steps = int(np.prod(_shape(op, sg, 0)[:-1]))
    gates = [_shape(op, sg, k) for k in range(1, 9) if _shape(op, sg, k)]
    return steps * sum(int(np.prod(g)) for g in gates)
