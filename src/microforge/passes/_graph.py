"""Small helpers the passes share: who produces and who reads a tensor, adding constants, removing
operators and compacting the tensor list."""

from __future__ import annotations

import numpy as np

from microforge.ir import Graph, Subgraph, Tensor


def producers(sg: Subgraph) -> dict[int, int]:
    """Tensor index -> index of the operator that writes it."""
    return {t: i for i, op in enumerate(sg.operators) for t in op.outputs if t >= 0}


def consumers(sg: Subgraph) -> dict[int, list[int]]:
    """Tensor index -> indices of the operators that read it (in execution order)."""
    out: dict[int, list[int]] = {}
    for i, op in enumerate(sg.operators):
        for t in op.inputs:
            if t >= 0:
                out.setdefault(t, []).append(i)
    return out


def sole_consumer(sg: Subgraph, tensor: int, readers: dict[int, list[int]]) -> int | None:
    """The one operator reading ``tensor`` when it is read once and is not a graph output."""
    ops = readers.get(tensor, [])
    if len(ops) != 1 or tensor in sg.outputs:
        return None
    return ops[0]


def add_constant(sg: Subgraph, name: str, data: np.ndarray) -> int:
    """Append a constant tensor holding ``data`` (stored read-only) and return its index."""
    data = np.array(data)
    data.flags.writeable = False
    sg.tensors.append(Tensor(name=name, shape=data.shape, dtype=data.dtype, data=data))
    return len(sg.tensors) - 1


def constant(sg: Subgraph, index: int) -> np.ndarray | None:
    """The value of tensor ``index`` when it is a constant (not a variable), else None."""
    t = sg.tensor(index)
    return t.data if t is not None and t.is_constant else None


def remove_operators(sg: Subgraph, indices: set[int]) -> None:
    sg.operators = [op for i, op in enumerate(sg.operators) if i not in indices]


def replace_uses(sg: Subgraph, old: int, new: int) -> None:
    """Every operator that reads ``old`` reads ``new`` instead."""
    for op in sg.operators:
        op.inputs = [new if t == old else t for t in op.inputs]


def used_tensors(sg: Subgraph) -> set[int]:
    used = set(sg.inputs) | set(sg.outputs)
    for op in sg.operators:
        used.update(t for t in op.inputs + op.outputs + op.intermediates if t >= 0)
    return used


def compact(graph: Graph) -> bool:
    """Drop tensors of subgraph 0 that nothing refers to; renumber the rest (signatures too)."""
    sg = graph.main
    used = used_tensors(sg)
    if len(used) == len(sg.tensors):
        return False
    remap = {old: new for new, old in enumerate(sorted(used))}
    sg.tensors = [sg.tensors[old] for old in sorted(used)]

    def move(ids: list[int]) -> list[int]:
        return [remap[t] if t >= 0 else t for t in ids]

    for op in sg.operators:
        op.inputs, op.outputs, op.intermediates = (
            move(op.inputs), move(op.outputs), move(op.intermediates))
    sg.inputs, sg.outputs = move(sg.inputs), move(sg.outputs)
    for sig in graph.signatures:
        if sig.subgraph_index == 0:
            sig.inputs = {k: remap[v] for k, v in sig.inputs.items() if v in remap}
            sig.outputs = {k: remap[v] for k, v in sig.outputs.items() if v in remap}
    return True

