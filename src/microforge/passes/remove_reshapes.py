"""Reshape clean-up: a chain of RESHAPE / SQUEEZE / EXPAND_DIMS becomes one RESHAPE (to the last
shape, with a constant shape tensor), and a reshape to the shape it already has disappears."""

from __future__ import annotations

import numpy as np

from microforge.ir import Graph
from microforge.passes._graph import (
    add_constant,
    consumers,
    producers,
    remove_operators,
    replace_uses,
    sole_consumer,
)

_RESHAPES = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}


def _to_reshape(graph: Graph, index: int, source: int) -> None:
    """Make operator ``index`` a RESHAPE of ``source`` to its current output shape."""
    sg = graph.main
    op = sg.operators[index]
    shape = sg.tensors[op.outputs[0]].shape
    shape_idx = add_constant(sg, f"{sg.tensors[op.outputs[0]].name}/shape",
                             np.array(shape, np.int32))
    op.opcode, op.options_type, op.version = "RESHAPE", None, 1  # the writer picks ReshapeOptions
    op.options = {"new_shape": list(shape)}
    op.inputs = [source, shape_idx]


def remove_reshapes(graph: Graph) -> tuple[Graph, bool]:
    """Collapse reshape chains and drop identity reshapes."""
    sg = graph.main
    removed: set[int] = set()
    for i, op in enumerate(sg.operators):
        if i in removed or op.opcode not in _RESHAPES or op.custom:
            continue
        x, y = op.inputs[0], op.outputs[0]
        readers, writers = consumers(sg), producers(sg)
        nxt_index = sole_consumer(sg, y, readers)
        if nxt_index is not None and sg.operators[nxt_index].opcode in _RESHAPES:
            _to_reshape(graph, nxt_index, x)
            removed.add(i)
            continue
        if sg.tensors[x].shape != sg.tensors[y].shape:
            continue
        if y not in sg.outputs:
            replace_uses(sg, y, x)
            removed.add(i)
        elif x in writers and sole_consumer(sg, x, readers) == i and x not in sg.inputs:
            producer = sg.operators[writers[x]]
            producer.outputs = [y if t == x else t for t in producer.outputs]
            removed.add(i)
    remove_operators(sg, removed)
    return graph, bool(removed)
