"""PassManager: passes run in order, repeatedly, until none modifies the graph."""

import pytest

from microforge.errors import ModelError
from microforge.ir.builder import GraphBuilder
from microforge.passes import PassManager


def _graph():
    b = GraphBuilder()
    b.output(b.input("x", (1,), "float32"))
    return b.build()


def test_runs_to_a_fixpoint():
    calls = []

    def countdown(graph):
        calls.append("countdown")
        return graph, len(calls) < 5

    def noop(graph):
        return graph, False

    _, modified = PassManager([countdown, noop])(_graph())
    assert modified and len(calls) == 5


def test_unmodified_graph_reports_no_change():
    _, modified = PassManager([lambda g: (g, False)])(_graph())
    assert not modified


def test_a_pass_that_never_settles_is_an_error():
    with pytest.raises(ModelError, match="did not settle"):
        PassManager([lambda g: (g, True)], max_rounds=3)(_graph())
