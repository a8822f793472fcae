"""Operator order for branched graphs: any topological order computes the same values, but the
order decides which tensors are live together. ``memory_aware_order`` builds an order greedily
(at each step, among the ready operators, the one that leaves the fewest bytes live, preferring
operators that free their inputs); ``choose_order`` keeps whichever of it and the model's own order
gives the smaller planned arena."""

from __future__ import annotations

from collections.abc import Callable

from microforge.ir import Subgraph


def _producers(sg: Subgraph) -> dict[int, int]:
    return {t: i for i, op in enumerate(sg.operators) for t in op.outputs}


def is_topological(sg: Subgraph, order: list[int]) -> bool:
    producer = _producers(sg)
    position = {op: k for k, op in enumerate(order)}
    for i in order:
        for t in sg.operators[i].inputs:
            if t >= 0 and t in producer and position[producer[t]] >= position[i]:
                return False
    return sorted(order) == list(range(len(sg.operators)))


def memory_aware_order(sg: Subgraph) -> list[int]:
    producer = _producers(sg)
    consumers: dict[int, set[int]] = {}
    for i, op in enumerate(sg.operators):
        for t in op.inputs:
            if t >= 0:
                consumers.setdefault(t, set()).add(i)
    deps = {
        i: {producer[t] for t in op.inputs if t >= 0 and t in producer}
        for i, op in enumerate(sg.operators)
    }
    outputs = set(sg.outputs)

    def size(t: int) -> int:
        tensor = sg.tensors[t]
        return 0 if tensor.data is not None or tensor.is_variable else tensor.nbytes

    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(sg.operators):
        ready = [i for i in range(len(sg.operators)) if i not in done and deps[i] <= done]

        def delta(i: int) -> tuple[int, int]:
            op = sg.operators[i]
            grows = sum(size(t) for t in op.outputs)
            frees = sum(
                size(t) for t in set(op.inputs)
                if t >= 0 and t not in outputs and consumers.get(t, set()) - done == {i}
            )
            return grows - frees, i

        best = min(ready, key=delta)
        order.append(best)
        done.add(best)
    return order


def choose_order(sg: Subgraph, arena_for: Callable[[list[int]], int]) -> list[int]:
    """The model's order unless the memory-aware order plans a smaller arena."""
    natural = list(range(len(sg.operators)))
    candidate = memory_aware_order(sg)
    if candidate == natural:
        return natural
    return candidate if arena_for(candidate) < arena_for(natural) else natural


def reordered(sg: Subgraph, order: list[int]) -> Subgraph:
    """The same subgraph with its operators in ``order`` (tensors unchanged)."""
    return Subgraph(sg.tensors, [sg.operators[i] for i in order], sg.inputs, sg.outputs, sg.name)
