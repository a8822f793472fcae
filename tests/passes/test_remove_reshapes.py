"""remove_reshapes: reshape chains collapse to one RESHAPE; identity reshapes disappear."""

import numpy as np

from microforge.ir.builder import GraphBuilder
from microforge.passes import PassManager, remove_dead, remove_reshapes
from tests.builders.graphs import F32, copy_graph, opcodes, run


def _chain(shapes, last_is_output=True, ops=None):
    b = GraphBuilder()
    x = b.input("x", shapes[0], F32)
    prev = x
    for k, shape in enumerate(shapes[1:]):
        y = b.tensor(f"r{k}", shape, F32)
        opcode = ops[k] if ops else "RESHAPE"
        if opcode == "RESHAPE":
            b.op("RESHAPE", [prev, b.const(f"s{k}", np.array(shape, np.int32))], [y],
                 new_shape=list(shape))
        elif opcode == "SQUEEZE":
            b.op("SQUEEZE", [prev], [y], squeeze_dims=[0])
        prev = y
    out = b.tensor("out", shapes[-1], F32)
    b.op("RELU", [prev], [out])
    b.output(out if last_is_output else prev)
    return b.build()


def test_chain_collapses_to_one_reshape():
    graph = _chain([(1, 4, 6), (1, 24), (2, 12), (1, 2, 12), (24,)], ops=None)
    before = run(graph)
    out, modified = PassManager([remove_reshapes, remove_dead])(copy_graph(graph))
    assert modified
    assert opcodes(out) == ["RESHAPE", "RELU"]
    np.testing.assert_array_equal(run(out)[0], before[0])


def test_squeeze_in_a_chain_becomes_a_reshape():
    graph = _chain([(1, 4, 6), (1, 1, 24), (1, 24)], ops=["RESHAPE", "SQUEEZE"])
    before = run(graph)
    out, _ = PassManager([remove_reshapes, remove_dead])(copy_graph(graph))
    assert opcodes(out) == ["RESHAPE", "RELU"]
    np.testing.assert_array_equal(run(out)[0], before[0])


def test_chain_back_to_the_same_shape_disappears():
    graph = _chain([(1, 4, 6), (1, 24), (1, 4, 6)])
    before = run(graph)
    out, _ = PassManager([remove_reshapes, remove_dead])(copy_graph(graph))
    assert opcodes(out) == ["RELU"]
    np.testing.assert_array_equal(run(out)[0], before[0])


def test_identity_reshape_writing_a_graph_output_is_absorbed_by_its_producer():
    b = GraphBuilder()
    x = b.input("x", (1, 8), F32)
    y = b.tensor("y", (1, 8), F32)
    b.op("RELU", [x], [y])
    out = b.tensor("out", (1, 8), F32)
    b.op("RESHAPE", [y, b.const("s", np.array([1, 8], np.int32))], [out], new_shape=[1, 8])
    b.output(out)
    graph = b.build()
    result, modified = PassManager([remove_reshapes, remove_dead])(copy_graph(graph))
    assert modified and opcodes(result) == ["RELU"]
    assert result.main.tensors[result.main.outputs[0]].name == "out"


def test_real_reshape_is_kept():
    graph = _chain([(1, 4, 6), (1, 24)])
    _, modified = remove_reshapes(copy_graph(graph))
    assert not modified
