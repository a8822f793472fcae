"""Build small graphs in code: single-operator test models, demo models, quantizer output.

    b = GraphBuilder()
    x = b.input("x", (1, 8, 8, 3), np.int8, scale=0.05, zero_point=-3)
    w = b.const("w", weights, scale=w_scales, zero_point=0, axis=0)
    y = b.tensor("y", (1, 8, 8, 4), np.int8, scale=0.1, zero_point=2)
    b.op("CONV_2D", [x, w, bias], [y], padding=Padding.SAME, stride_w=1, stride_h=1)
    b.output(y)
    graph = b.build()
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from microforge.ir.graph import Graph, Operator, Subgraph, Tensor
from microforge.ir.ops import op_def
from microforge.ir.quant import QuantParams


def _quant(scale, zero_point, axis) -> QuantParams | None:
    if scale is None:
        return None
    scale = np.atleast_1d(np.asarray(scale, dtype=np.float32))
    zp = np.zeros(scale.shape, np.int64) if zero_point is None else np.atleast_1d(zero_point)
    if zp.size == 1 and scale.size > 1:
        zp = np.full(scale.shape, int(zp[0]), np.int64)
    return QuantParams(scale=scale, zero_point=zp, axis=axis)


class GraphBuilder:
    """Accumulates tensors and operators of one subgraph; tensors are referred to by index."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []
        self.operators: list[Operator] = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def tensor(self, name, shape, dtype, scale=None, zero_point=None, axis=0,
               data=None, variable: bool = False) -> int:
        """Add a tensor and return its index."""
        if data is not None:
            data = np.array(data, dtype=dtype).reshape(shape)
            data.flags.writeable = False
        self.tensors.append(
            Tensor(
                name=name,
                shape=tuple(shape),
                dtype=np.dtype(dtype),
                quant=_quant(scale, zero_point, axis),
                data=data,
                is_variable=variable,
            )
        )
        return len(self.tensors) - 1

    def input(self, name, shape, dtype, scale=None, zero_point=None) -> int:
        idx = self.tensor(name, shape, dtype, scale, zero_point)
        self.inputs.append(idx)
        return idx

    def const(self, name, data, dtype=None, scale=None, zero_point=None, axis=0) -> int:
        data = np.asarray(data, dtype=dtype)
        return self.tensor(name, data.shape, data.dtype, scale, zero_point, axis, data=data)

    def output(self, *indices: int) -> None:
        self.outputs.extend(indices)

    def op(self, opcode: str, inputs: list[int], outputs: list[int], **options: Any) -> int:
        """Add a builtin operator with its options (snake_case fields of its options table; the
        enum-valued ones are stored as IR enums, :mod:`microforge.ir.ops`)."""
        self.operators.append(new_operator(opcode, inputs, outputs, **options))
        return len(self.operators) - 1

    def custom_op(self, code: str, inputs: list[int], outputs: list[int], options: bytes = b"") -> int:
        self.operators.append(
            Operator(opcode=code, inputs=list(inputs), outputs=list(outputs), custom=True,
                     custom_options=options)
        )
        return len(self.operators) - 1

    def build(self) -> Graph:
        sg = Subgraph(self.tensors, self.operators, self.inputs, self.outputs, name="main")
        return Graph(subgraphs=[sg], description="microforge")


def new_operator(opcode: str, inputs: list[int], outputs: list[int], **options: Any) -> Operator:
    """A builtin operator; its enum-valued options become the IR enums of its row."""
    row = op_def(opcode)
    return Operator(opcode=opcode, inputs=list(inputs), outputs=list(outputs),
                    options=row.named(options) if row is not None else dict(options))


def extract_operator(graph: Graph, index: int) -> Graph:
    """A graph holding only operator ``index`` of subgraph 0: its non-constant inputs become graph
    inputs (variable tensors stay variable), its outputs graph outputs. For per-op oracle tests."""
    sg = graph.main
    op = copy.deepcopy(sg.operators[index])
    used = [i for i in op.inputs + op.outputs + op.intermediates if i >= 0]
    remap: dict[int, int] = {}
    tensors = []
    for i in used:
        if i not in remap:
            remap[i] = len(tensors)
            tensors.append(copy.copy(sg.tensors[i]))
    op.inputs = [remap[i] if i >= 0 else -1 for i in op.inputs]
    op.outputs = [remap[i] for i in op.outputs]
    op.intermediates = [remap[i] for i in op.intermediates]
    inputs = []
    for i in op.inputs:
        if i >= 0 and tensors[i].data is None and not tensors[i].is_variable and i not in inputs:
            inputs.append(i)
    new = Subgraph(tensors, [op], inputs, list(op.outputs), name=sg.name)
    return Graph(subgraphs=[new], description=graph.description, version=graph.version)
