"""Partitioning: which backend runs each operator of the main subgraph.

Backends are tried in the order given (the most specialised first, the CPU backend last as the
fallback); each operator goes to the first backend whose ``supports`` accepts it. An operator no
backend accepts is an error naming every such operator and why. Today the C backend is the only
one, so every operator goes to C; an NPU backend placed before it takes what it can run and leaves
the rest to the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from microforge.errors import UnsupportedOpError
from microforge.ir import Graph


class Candidate(Protocol):
    """What partitioning needs of a backend."""

    name: str

    def supports(self, graph: Graph, index: int) -> str | None: ...


@dataclass(frozen=True)
class Partition:
    """``assignment[i]`` is the name of the backend that runs operator ``i``."""

    assignment: tuple[str, ...]

    def ops_of(self, backend: str) -> list[int]:
        return [i for i, b in enumerate(self.assignment) if b == backend]

    def segments(self) -> list[tuple[str, list[int]]]:
        """Maximal runs of consecutive operators on the same backend, in model order."""
        runs: list[tuple[str, list[int]]] = []
        for i, b in enumerate(self.assignment):
            if runs and runs[-1][0] == b:
                runs[-1][1].append(i)
            else:
                runs.append((b, [i]))
        return runs


def partition(graph: Graph, backends: Sequence[Candidate]) -> Partition:
    """Assign every operator of ``graph.main`` to the first backend in ``backends`` that
    supports it."""
    assignment: list[str] = []
    refused: list[str] = []
    for i in range(len(graph.main.operators)):
        reasons = []
        for backend in backends:
            why = backend.supports(graph, i)
            if why is None:
                assignment.append(backend.name)
                break
            reasons.append(why)
        else:
            refused.append(reasons[-1] if reasons else f"operator {i}: no backend")
    if refused:
        raise UnsupportedOpError("; ".join(refused))
    return Partition(tuple(assignment))
