"""fuse_activation: standalone RELU / RELU6 / RELU_N1_TO_1 become the producer's fused activation."""

import numpy as np
import pytest

from microforge.ir.builder import GraphBuilder
from microforge.passes import fuse_activation
from tests.builders.graphs import F32, copy_graph, opcodes, run


def _graph(producer: str, activation: str, extra_reader: bool = False):
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 3), F32)
    y = b.tensor("y", (1, 4, 4, 3), F32)
    if producer == "ADD":
        b.op("ADD", [x, b.const("c", rng.normal(size=3).astype(F32))], [y],
             fused_activation_function=0)
    else:
        b.op("DEPTHWISE_CONV_2D", [x, b.const("w", rng.normal(size=(1, 3, 3, 3)).astype(F32)),
                                   b.const("b", rng.normal(size=3).astype(F32))], [y],
             padding=0, stride_w=1, stride_h=1, depth_multiplier=1, fused_activation_function=0,
             dilation_w_factor=1, dilation_h_factor=1)
    z = b.tensor("z", (1, 4, 4, 3), F32)
    b.op(activation, [y], [z])
    b.output(z)
    if extra_reader:
        b.output(y)
    return b.build()


@pytest.mark.parametrize("producer", ["ADD", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("activation,code", [("RELU", 1), ("RELU_N1_TO_1", 2), ("RELU6", 3)])
def test_activation_fused_bit_exact(producer, activation, code):
    graph = _graph(producer, activation)
    if activation == "RELU_N1_TO_1":  # no float kernel to compare with: check structure only
        fused, modified = fuse_activation(copy_graph(graph))
        assert modified and opcodes(fused) == [producer]
        assert fused.main.operators[0].options["fused_activation_function"] == code
        return
    before = run(graph)
    fused, modified = fuse_activation(copy_graph(graph))
    assert modified and opcodes(fused) == [producer]
    assert fused.main.operators[0].options["fused_activation_function"] == code
    np.testing.assert_array_equal(run(fused)[0], before[0])


def test_producer_output_read_elsewhere_is_not_fused():
    _, modified = fuse_activation(_graph("ADD", "RELU", extra_reader=True))
    assert not modified


def test_producer_with_an_activation_already_is_not_fused():
    graph = _graph("ADD", "RELU6")
    graph.main.operators[0].options["fused_activation_function"] = 1
    _, modified = fuse_activation(graph)
    assert not modified
