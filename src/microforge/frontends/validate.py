"""Validation of a read model, whatever its format: every reader's graph passes here before
anything else sees it (``read_model``), so ``inspect``, ``load``, ``quantize`` and ``compile``
accept and reject the same files.

Checked, each failure one :class:`ModelError` naming the subgraph, operator, tensor and field:

* tensor, subgraph and signature indices in range, every operator input produced before it is
  read (a constant, a variable, a subgraph input or an earlier operator's output), as TFLM's
  allocator assumes;
* shapes non-negative, ranks and tensor sizes within :mod:`microforge.limits`, constant data the
  size its shape says;
* quantization parameters: scales finite and positive, zero points within the tensor type's
  range, per-channel parameters one per channel along an axis the tensor has;
* enum-valued options (fused activation, padding, ...) members of their enum, else
  :class:`UnsupportedOpError` (TFLM's ``CalculateActivationRange`` and friends refuse them);
* weights and biases constant, weights of the rank their kernel indexes, element counts that
  agree where an operator only reinterprets its input (RESHAPE) or the weights fix them
  (FULLY_CONNECTED);
* subgraph references in options (``*_subgraph_index``) in range and acyclic.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from microforge import limits
from microforge.errors import ModelError, UnsupportedOpError
from microforge.ir import Graph, Operator, Subgraph, Tensor, op_def
from microforge.ir.ops.enums import Role

# Rank of input k's weights, for the kernels (and MAC counts) that index them.
WEIGHT_RANKS: dict[str, dict[int, int]] = {
    "CONV_2D": {1: 4}, "DEPTHWISE_CONV_2D": {1: 4}, "TRANSPOSE_CONV": {1: 4},
    "FULLY_CONNECTED": {1: 2}, "SVDF": {1: 2, 2: 2},
}
# Operators that need at least this many inputs (the positions their kernels read).
MIN_INPUTS: dict[str, int] = {
    "CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "SVDF": 5, "TRANSPOSE_CONV": 3,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": 20, "PRELU": 2,
}
# Operators whose output has exactly its first input's elements.
SAME_ELEMENTS = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "QUANTIZE", "DEQUANTIZE", "CAST"}
_RAW_TYPES = {"INT4", "STRING", "RESOURCE", "VARIANT"}


def validate_graph(graph: Graph) -> Graph:
    """``graph`` unchanged, or :class:`ModelError` for the first inconsistency found."""
    if not graph.subgraphs:
        raise ModelError("the model has no subgraphs")
    for s, sg in enumerate(graph.subgraphs):
        _subgraph(sg, f"subgraph {s}")
    for k, sig in enumerate(graph.signatures):
        if not 0 <= sig.subgraph_index < len(graph.subgraphs):
            raise ModelError(f"signature {k} ({sig.key!r}) refers to subgraph {sig.subgraph_index} "
                             f"of {len(graph.subgraphs)}")
        n = len(graph.subgraphs[sig.subgraph_index].tensors)
        for name, idx in {**sig.inputs, **sig.outputs}.items():
            if not 0 <= idx < n:
                raise ModelError(f"signature {k} ({sig.key!r}) entry {name!r} refers to tensor {idx} "
                                 f"of {n}")
    _subgraph_calls(graph)
    return graph


def _subgraph(sg: Subgraph, where: str) -> None:
    limits.OPERATORS.check(len(sg.operators), where)
    n = len(sg.tensors)
    for i, t in enumerate(sg.tensors):
        _tensor(t, f"{where} tensor {i} ({t.name!r})")
    for what, ids in (("input", sg.inputs), ("output", sg.outputs)):
        for idx in ids:
            if not 0 <= idx < n:
                raise ModelError(f"{where} {what} refers to tensor {idx}, but it has {n} tensors")
    ready = {i for i, t in enumerate(sg.tensors) if t.data is not None or t.is_variable}
    ready |= set(sg.inputs)
    for k, op in enumerate(sg.operators):
        here = f"{where} operator {k} ({op.opcode})"
        for what, ids, low in (("input", op.inputs, -1), ("output", op.outputs, 0),
                               ("intermediate", op.intermediates, -1)):
            for idx in ids:
                if not low <= idx < n:
                    raise ModelError(f"{here} {what} refers to tensor {idx}, but the subgraph has {n}")
        _operator(op, sg, here)
        known = not op.custom and op_def(op.opcode) is not None  # a custom op may own scratch
        for pos, idx in enumerate(op.inputs):
            if known and idx >= 0 and idx not in ready:
                raise ModelError(f"{here} input {pos} reads tensor {idx} ({sg.tensors[idx].name!r}) "
                                 "before any operator writes it")
        if known:
            _writes(op, sg, ready, here)
        ready.update(op.outputs)
    unset = [i for i in sg.outputs if i not in ready]
    if unset:
        raise ModelError(f"{where} output tensor {unset[0]} is never written")


def _writes(op, sg: Subgraph, ready: set[int], here: str) -> None:
    """A builtin operator writes tensors no one else holds: each once, none of them a model
    input, a constant or a tensor an earlier operator wrote (variables excepted: state)."""
    seen: set[int] = set()
    for idx in op.outputs:
        t = sg.tensors[idx]
        if t.is_variable:
            continue
        if idx in seen:
            raise ModelError(f"{here} lists tensor {idx} ({t.name!r}) twice among its outputs")
        if idx in ready:
            holds = ("a model input" if idx in sg.inputs else "a constant" if t.data is not None
                     else "written by an earlier operator")
            raise ModelError(f"{here} writes tensor {idx} ({t.name!r}), which is {holds}")
        seen.add(idx)


def _tensor(t: Tensor, where: str) -> None:
    limits.RANK.check(len(t.shape), where)
    if any(d < 0 for d in t.shape):
        raise ModelError(f"{where} has a negative dimension in shape {list(t.shape)}")
    elements = math.prod(t.shape)
    limits.TENSOR_BYTES.check(elements * t.dtype.itemsize, where)
    if t.data is not None and t.type_name not in _RAW_TYPES and t.data.size != elements:
        raise ModelError(f"{where} holds {t.data.size} values but its shape {list(t.shape)} "
                         f"has {elements}")
    if t.quant is not None:
        _quant(t, where)


def _quant(t: Tensor, where: str) -> None:
    q = t.quant
    if q.scale.size and not np.all(np.isfinite(q.scale)):
        raise ModelError(f"{where} has a quantization scale that is not finite ({q.scale[:4]})")
    if q.scale.size and t.dtype.kind in "iu" and np.any(q.scale <= 0):
        raise ModelError(f"{where} has a quantization scale <= 0 ({q.scale[:4]})")
    if q.zero_point.size and t.dtype.kind in "iu":
        info = np.iinfo(np.int8) if t.type_name == "INT4" else np.iinfo(t.dtype)
        if q.zero_point.min() < info.min or q.zero_point.max() > info.max:
            raise ModelError(f"{where} has a zero point outside the {t.type_name or t.dtype} range "
                             f"[{info.min}, {info.max}]")
    if q.scale.size > 1 or q.zero_point.size > 1:
        if q.axis < 0:
            raise ModelError(f"{where} has per-channel quantization along axis {q.axis}")
        # TFLM reads a bias's channel count from its filter, whatever axis the bias names
        # (person_detect.tflite's biases say axis 3): past the rank, the last axis counts.
        channels = t.shape[min(q.axis, len(t.shape) - 1)] if t.shape else 1
        for what, arr in (("scales", q.scale), ("zero points", q.zero_point)):
            if arr.size not in (0, 1, channels):
                raise ModelError(f"{where} has {arr.size} quantization {what} for {channels} channels "
                                 f"along axis {q.axis}")


def _operator(op: Operator, sg: Subgraph, where: str) -> None:
    row = None if op.custom else op_def(op.opcode)
    if row is None:
        return
    for key, enum in row.options.items():
        value = op.options.get(key)
        if value is not None and not isinstance(value, IntEnum):
            names = ", ".join(f"{m.value} {m.name}" for m in enum)
            raise UnsupportedOpError(f"{where}: option {key} = {value} is not a {enum.__name__} "
                                     f"({names})")
    if row.no_runtime is None and not op.outputs:
        raise ModelError(f"{where} has no outputs")
    need = MIN_INPUTS.get(op.opcode, 1 if row.inputs else 0)
    if len(op.inputs) < need or any(i < 0 for i in op.inputs[: min(need, 2)]):
        raise ModelError(f"{where} has {len(op.inputs)} inputs {op.inputs}; it needs at least {need}")
    for pos, idx in enumerate(op.inputs):
        role = row.role(pos)
        t = sg.tensor(idx)
        if t is None or role not in (Role.WEIGHTS, Role.BIAS):
            continue
        if t.data is None and op.opcode not in ("FULLY_CONNECTED", "PRELU"):
            raise ModelError(f"{where} input {pos} ({role.value}, tensor {idx} {t.name!r}) has no "
                             "data; it must be a constant")
        rank = WEIGHT_RANKS.get(op.opcode, {}).get(pos)
        if rank is not None and len(t.shape) != rank:
            raise ModelError(f"{where} input {pos} ({role.value}, tensor {idx} {t.name!r}) has shape "
                             f"{list(t.shape)}; it must have rank {rank}")
    _elements(op, sg, where)


def _elements(op: Operator, sg: Subgraph, where: str) -> None:
    """Element counts an operator cannot change."""
    x = sg.tensors[op.inputs[0]] if op.inputs and op.inputs[0] >= 0 else None
    if x is None or not op.outputs:
        return
    out = sg.tensors[op.outputs[0]]
    if op.opcode in SAME_ELEMENTS and x.size != out.size:
        raise ModelError(f"{where}: output {list(out.shape)} has {out.size} elements, the input "
                         f"{list(x.shape)} {x.size}")
    if op.opcode == "FULLY_CONNECTED":
        w = sg.tensors[op.inputs[1]]
        depth, accum = w.shape
        if accum == 0 or x.size % accum or out.size != x.size // accum * depth:
            raise ModelError(f"{where}: input {list(x.shape)}, weights {list(w.shape)} and output "
                             f"{list(out.shape)} do not agree")


def _subgraph_calls(graph: Graph) -> None:
    """Option fields naming subgraphs (IF, WHILE, CALL_ONCE) in range, with no cycle."""
    n = len(graph.subgraphs)
    calls: dict[int, set[int]] = {}
    for s, sg in enumerate(graph.subgraphs):
        for k, op in enumerate(sg.operators):
            for key, value in op.options.items():
                if key.endswith("subgraph_index") and isinstance(value, (int, np.integer)):
                    if not 0 <= value < n:
                        raise ModelError(f"subgraph {s} operator {k} ({op.opcode}): {key} = {value}, "
                                         f"but the model has {n} subgraphs")
                    calls.setdefault(s, set()).add(int(value))
    state: dict[int, int] = {}

    def visit(s: int) -> None:
        state[s] = 1
        for t in calls.get(s, ()):
            if state.get(t) == 1:
                raise ModelError(f"subgraph {s} calls subgraph {t}, which calls back: a cycle")
            if t not in state:
                visit(t)
        state[s] = 2

    for s in range(n):
        if s not in state:
            visit(s)
