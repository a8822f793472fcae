"""Partitioning gives each operator to the first backend that supports it, and names every
operator no backend takes."""

import numpy as np
import pytest

from microforge.backends import BACKENDS
from microforge.errors import UnsupportedOpError
from microforge.ir.builder import GraphBuilder
from microforge.passes.partition import Partition, partition


class _Only:
    """A backend that takes the listed opcodes."""

    def __init__(self, name, opcodes):
        self.name, self.opcodes = name, set(opcodes)

    def supports(self, graph, index):
        op = graph.main.operators[index].opcode
        return None if op in self.opcodes else f"operator {index} ({op}): not on {self.name}"


def _chain(*opcodes):
    b = GraphBuilder()
    x = b.input("x", (1, 4), np.float32)
    for k, opcode in enumerate(opcodes):
        y = b.tensor(f"t{k}", (1, 4), np.float32)
        b.op(opcode, [x], [y])
        x = y
    b.output(x)
    return b.build()


def test_first_supporting_backend_wins_and_cpu_takes_the_rest():
    graph = _chain("RELU", "TANH", "RELU", "LOGISTIC")
    npu, cpu = _Only("npu", {"RELU"}), _Only("cpu", {"RELU", "TANH", "LOGISTIC"})
    p = partition(graph, [npu, cpu])
    assert p.assignment == ("npu", "cpu", "npu", "cpu")
    assert p.ops_of("npu") == [0, 2] and p.ops_of("cpu") == [1, 3]
    assert p.segments() == [("npu", [0]), ("cpu", [1]), ("npu", [2]), ("cpu", [3])]


def test_every_refused_operator_is_named():
    graph = _chain("RELU", "TANH", "LOGISTIC")
    with pytest.raises(UnsupportedOpError) as err:
        partition(graph, [_Only("cpu", {"RELU"})])
    assert "operator 1 (TANH)" in str(err.value) and "operator 2 (LOGISTIC)" in str(err.value)


def test_the_c_backend_takes_every_operator_it_has_a_kernel_for():
    graph = _chain("RELU", "TANH")
    assert partition(graph, BACKENDS) == Partition(("c", "c"))


@pytest.mark.parametrize("opcode, message", [
    ("MyVendorOp", r"unsupported operator: MyVendorOp \(operator 0\)"),  # no table row at all
    ("ethos-u", r"operator 0 \(ethos-u\) has no C kernel"),  # a row whose no_c says why
])
def test_the_c_backend_refuses_an_operator_without_a_kernel(opcode, message):
    b = GraphBuilder()
    x = b.input("x", (1, 4), np.int8, scale=0.1, zero_point=0)
    y = b.tensor("y", (1, 4), np.int8, scale=0.1, zero_point=0)
    b.custom_op(opcode, [x], [y])
    b.output(y)
    with pytest.raises(UnsupportedOpError, match=message):
        partition(b.build(), BACKENDS)
