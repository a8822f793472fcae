"""Dead code removal: operators whose outputs nobody reads (and that keep no state), then tensors
that nothing refers to any more."""

from __future__ import annotations

from microforge.ir import Graph
from microforge.passes._graph import compact, consumers, remove_operators


def remove_dead(graph: Graph) -> tuple[Graph, bool]:
    """Remove unread, stateless operators until none is left, then compact the tensor list."""
    sg = graph.main
    changed = False
    while True:
        readers = consumers(sg)
        dead = {
            i for i, op in enumerate(sg.operators)
            if not op.custom
            and not any(sg.tensors[t].is_variable for t in op.inputs if t >= 0)
            and all(t not in sg.outputs and not readers.get(t) for t in op.outputs)
        }
        if not dead:
            break
        remove_operators(sg, dead)
        changed = True
    return graph, compact(graph) or changed
