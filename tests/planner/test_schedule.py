"""Operator reordering: on a branched graph the memory-aware order lowers the planned arena, the
compiled library follows it, and it still equals the Python runtime byte for byte."""

import numpy as np

from microforge.backends.c.compiler import compile_model
from microforge.ir.builder import GraphBuilder
from microforge.planner.schedule import is_topological, memory_aware_order
from microforge.targets.host import verify


def _fc(b, name, x, n_in, n_out, rng):
    w = b.const(f"{name}/w", rng.integers(-127, 128, (n_out, n_in)), np.int8, scale=0.01, zero_point=0)
    bias = b.const(f"{name}/b", np.zeros(n_out), np.int32, scale=0.001, zero_point=0)
    y = b.tensor(name, (1, n_out), np.int8, scale=0.5, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=0)
    return y


def branched_graph():
    """Two wide branches written breadth-first: both 1 KiB tensors are live at once."""
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 16), np.int8, 0.1, 0)
    wide_a = _fc(b, "wide_a", x, 16, 1024, rng)
    wide_b = _fc(b, "wide_b", x, 16, 1024, rng)
    a = _fc(b, "a", wide_a, 1024, 8, rng)
    c = _fc(b, "c", wide_b, 1024, 8, rng)
    y = b.tensor("y", (1, 8), np.int8, 1.0, 0)
    b.op("ADD", [a, c], [y], fused_activation_function=0)
    b.output(y)
    return b.build()


def test_memory_aware_order_runs_one_branch_at_a_time():
    sg = branched_graph().main
    order = memory_aware_order(sg)
    assert is_topological(sg, order)
    assert order == [0, 2, 1, 3, 4]


def test_compile_reorders_and_stays_bit_exact(tmp_path):
    graph = branched_graph()
    compiled = compile_model(graph, tmp_path / "lib", name="branchy")
    assert [row["model_index"] for row in compiled.op_rows] == [0, 2, 1, 3, 4]
    assert compiled.arena_bytes == compiled.plan.lower_bound  # one wide tensor at a time
    assert compiled.arena_bytes < compiled.tflm_style_plan.size  # which holds both wide tensors
    result = verify(compiled.directory, "branchy", graph, 200)
    assert result.ok, result.first_difference
