"""Constant folding: an operator whose inputs are all constants is computed once and replaced by
its result.

SHAPE (from the static shape TFLM reports, even of a non-constant tensor) and PACK are folded
here directly, so the ``Shape -> StridedSlice -> Pack -> Reshape`` chain Keras' ``Flatten`` leaves
in converted models becomes a constant shape; every other operator is evaluated with microforge's
own kernel (so the folded value is the one TFLM would compute). Operators writing graph outputs,
custom operators and operators that read or keep state are left alone, as is any operator
microforge cannot run.
"""

from __future__ import annotations

import numpy as np

from microforge.errors import MicroforgeError
from microforge.ir import Graph, Operator, Subgraph
from microforge.ir.builder import extract_operator
from microforge.ir.dtypes import TensorType
from microforge.passes._graph import remove_operators

_STATEFUL = {"SVDF", "UNIDIRECTIONAL_SEQUENCE_LSTM", "VAR_HANDLE", "READ_VARIABLE",
             "ASSIGN_VARIABLE", "CALL_ONCE"}
_MAX_ELEMENTS = 1 << 22


def _foldable(sg: Subgraph, op: Operator) -> bool:
    if op.custom or op.opcode in _STATEFUL or not op.outputs:
        return False
    if any(t in sg.outputs for t in op.outputs) or op.intermediates:
        return False
    present = [t for t in op.inputs if t >= 0]
    if op.opcode == "SHAPE":  # needs only the static shape
        return len(present) == 1
    return bool(present) and all(sg.tensors[t].is_constant for t in present)


def _evaluate(graph: Graph, index: int) -> list[np.ndarray] | None:
    sg = graph.main
    op = sg.operators[index]
    ins = [sg.tensors[t].data if t >= 0 else None for t in op.inputs]
    if op.opcode == "SHAPE":
        out_type = op.options.get("out_type", TensorType.INT32)
        dtype = np.int64 if out_type == TensorType.INT64 else np.int32
        return [np.array(sg.tensors[op.inputs[0]].shape, dtype)]
    if op.opcode == "PACK":
        return [np.stack(ins, axis=int(op.options.get("axis", 0)))]
    from microforge.runtime.interpreter import Executor

    try:
        outs, _ = Executor(extract_operator(graph, index)).run([])
    except MicroforgeError:
        return None
    return [o[0] for o in outs]


def fold_constants(graph: Graph) -> tuple[Graph, bool]:
    """Replace every operator computing only from constants by constant output tensors."""
    sg = graph.main
    folded: set[int] = set()
    for i, op in enumerate(sg.operators):
        if not _foldable(sg, op):
            continue
        values = _evaluate(graph, i)
        if values is None or len(values) != len(op.outputs):
            continue
        if any(v.size > _MAX_ELEMENTS for v in values):
            continue
        for t_idx, value in zip(op.outputs, values):
            t = sg.tensors[t_idx]
            value = np.array(value, dtype=t.dtype)
            if t.size == value.size:
                value = value.reshape(t.shape)
            value.flags.writeable = False
            t.data, t.shape, t.shape_signature = value, value.shape, None
        folded.add(i)
    remove_operators(sg, folded)
    return graph, bool(folded)
