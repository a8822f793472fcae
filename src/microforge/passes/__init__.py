"""Graph preparation passes, one per module, each ``pass_(graph) -> (graph, modified)``.

:func:`prepare` applies the default list to a copy of a graph until none changes it. Of the
helpers the passes share (``_graph.py``), :func:`producers` and :func:`compact` are public.
"""

from __future__ import annotations

import copy

from microforge.ir import Graph
from microforge.passes._graph import compact, producers
from microforge.passes._manager import Pass, PassManager
from microforge.passes.fold_batchnorm import fold_batchnorm
from microforge.passes.fold_constants import fold_constants
from microforge.passes.fuse_activation import fuse_activation
from microforge.passes.remove_dead import remove_dead
from microforge.passes.remove_reshapes import remove_reshapes

DEFAULT_PASSES: list[Pass] = [
    fold_constants, fold_batchnorm, fuse_activation, remove_reshapes, remove_dead,
]


def prepare(graph: Graph) -> Graph:
    """A copy of ``graph`` with the default passes applied to a fixpoint."""
    graph, _ = PassManager(DEFAULT_PASSES)(copy.deepcopy(graph))
    return graph


__all__ = [
    "DEFAULT_PASSES", "Pass", "PassManager", "compact", "fold_batchnorm", "fold_constants",
    "fuse_activation", "prepare", "producers", "remove_dead", "remove_reshapes",
]
