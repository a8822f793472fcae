"""The pass infrastructure: a pass is a callable ``pass_(graph) -> (graph, modified)``; a
:class:`PassManager` applies a list of them in order, again and again, until none changes the graph."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from microforge.errors import ModelError
from microforge.ir import Graph

Pass = Callable[[Graph], tuple[Graph, bool]]


class PassManager:
    """Runs ``passes`` in order to a fixpoint (at most ``max_rounds`` rounds)."""

    def __init__(self, passes: Sequence[Pass], max_rounds: int = 50) -> None:
        self.passes = list(passes)
        self.max_rounds = max_rounds

    def __call__(self, graph: Graph) -> tuple[Graph, bool]:
        changed = False
        for _ in range(self.max_rounds):
            round_changed = False
            for pass_ in self.passes:
                graph, modified = pass_(graph)
                round_changed |= modified
            if not round_changed:
                return graph, changed
            changed = True
        raise ModelError(f"graph passes did not settle after {self.max_rounds} rounds")
