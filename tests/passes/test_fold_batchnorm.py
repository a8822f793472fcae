"""fold_batchnorm: MUL/ADD/SUB by per-channel constants folded into the preceding conv / FC."""

import numpy as np
import pytest

from microforge.ir.builder import GraphBuilder
from microforge.passes import PassManager, fold_batchnorm, remove_dead
from tests.builders.graphs import F32, conv_bn, copy_graph, opcodes, run


@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"])
@pytest.mark.parametrize("bias", [True, False])
def test_mul_then_add_fold_into_layer(opcode, bias):
    graph = conv_bn(opcode, bias=bias)
    before = run(graph)
    folded, modified = PassManager([fold_batchnorm, remove_dead])(copy_graph(graph))
    assert modified
    assert opcodes(folded) == [opcode]
    np.testing.assert_allclose(run(folded)[0], before[0], rtol=1e-5, atol=1e-5)
    layer = folded.main.operators[0]
    assert folded.main.tensors[layer.inputs[2]].shape == (4,)


@pytest.mark.parametrize("activation", ["RELU", "RELU6"])
def test_activation_of_the_folded_op_moves_to_the_layer(activation):
    graph = conv_bn("CONV_2D", activation=activation, sub=True)
    before = run(graph)
    folded, _ = PassManager([fold_batchnorm, remove_dead])(copy_graph(graph))
    assert opcodes(folded) == ["CONV_2D"]
    assert folded.main.operators[0].options["fused_activation_function"] == {"RELU": 1,
                                                                             "RELU6": 3}[activation]
    np.testing.assert_allclose(run(folded)[0], before[0], rtol=1e-5, atol=1e-5)


def test_layer_with_activation_or_two_readers_is_left_alone():
    graph = conv_bn("CONV_2D")
    graph.main.operators[0].options["fused_activation_function"] = 1
    _, modified = fold_batchnorm(copy_graph(graph))
    assert not modified
    graph = conv_bn("CONV_2D")
    graph.main.outputs.append(graph.main.operators[0].outputs[0])  # conv output also a graph output
    _, modified = fold_batchnorm(copy_graph(graph))
    assert not modified


def test_non_channel_constant_is_not_folded():
    b = GraphBuilder()
    x = b.input("x", (1, 6), F32)
    y = b.tensor("y", (1, 4), F32)
    b.op("FULLY_CONNECTED", [x, b.const("w", np.ones((4, 6), F32)), -1], [y])
    z = b.tensor("z", (2, 4), F32)  # broadcasts the layer's output to a larger shape
    b.op("ADD", [y, b.const("c", np.ones((2, 4), F32))], [z])
    b.output(z)
    _, modified = fold_batchnorm(b.build())
    assert not modified
