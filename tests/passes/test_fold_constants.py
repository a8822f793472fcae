"""fold_constants: constant subgraphs (incl. Keras' SHAPE/STRIDED_SLICE/PACK batch arithmetic)
become constants computed by microforge's own kernels."""

import numpy as np

from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import GraphBuilder
from microforge.passes import PassManager, fold_constants, prepare, remove_dead
from tests.builders.graphs import F32, copy_graph, opcodes, run
from tests.oracle import MODELS


def _flatten_graph():
    """x (1,2,3,4) -> RESHAPE to [SHAPE(x)[0], 24] built from SHAPE/STRIDED_SLICE/PACK, as the
    TFLite converter emits for a Keras Flatten with a dynamic batch."""
    b = GraphBuilder()
    x = b.input("x", (1, 2, 3, 4), F32)
    shape = b.tensor("shape", (4,), np.int32)
    b.op("SHAPE", [x], [shape], out_type=2)
    batch = b.tensor("batch", (), np.int32)
    b.op("STRIDED_SLICE", [shape, b.const("begin", np.array([0], np.int32)),
                           b.const("end", np.array([1], np.int32)),
                           b.const("strides", np.array([1], np.int32))], [batch],
         begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=1,
         offset=False)
    new_shape = b.tensor("new_shape", (2,), np.int32)
    b.op("PACK", [batch, b.const("cols", np.array(24, np.int32))], [new_shape], values_count=2,
         axis=0)
    y = b.tensor("y", (1, 24), F32)
    b.op("RESHAPE", [x, new_shape], [y])
    out = b.tensor("out", (1, 24), F32)
    b.op("RELU", [y], [out])
    b.output(out)
    return b.build()


def test_shape_slice_pack_fold_to_a_constant_shape():
    graph = _flatten_graph()
    folded, modified = PassManager([fold_constants, remove_dead])(copy_graph(graph))
    assert modified
    assert opcodes(folded) == ["RESHAPE", "RELU"]
    shape = folded.main.tensors[folded.main.operators[0].inputs[1]]
    np.testing.assert_array_equal(shape.data, [1, 24])
    x = np.random.default_rng(0).normal(size=(32, 1, 2, 3, 4)).astype(F32)  # run()'s inputs
    np.testing.assert_array_equal(run(folded)[0], np.maximum(x.reshape(32, 1, 24), 0))


def test_float_arithmetic_on_constants_is_folded_with_the_runtime_kernels():
    b = GraphBuilder()
    x = b.input("x", (1, 3), F32)
    c = b.tensor("c", (3,), F32)
    b.op("MUL", [b.const("a", np.array([1.5, -2.0, 0.1], F32)),
                 b.const("k", np.array([3.0, 0.25, 7.0], F32))], [c], fused_activation_function=0)
    y = b.tensor("y", (1, 3), F32)
    b.op("ADD", [x, c], [y], fused_activation_function=0)
    b.output(y)
    graph = b.build()
    before = run(graph)
    folded, modified = PassManager([fold_constants, remove_dead])(copy_graph(graph))
    assert modified and opcodes(folded) == ["ADD"]
    np.testing.assert_array_equal(run(folded)[0], before[0])


def test_ops_writing_graph_outputs_are_not_folded():
    b = GraphBuilder()
    b.input("x", (1, 3), F32)
    y = b.tensor("y", (3,), F32)
    b.op("RELU", [b.const("a", np.array([1.0, -1.0, 2.0], F32))], [y])
    b.output(y)
    _, modified = fold_constants(b.build())
    assert not modified


def test_prepare_leaves_real_models_runnable_and_equal():
    graph = read_tflite(MODELS / "hello_world_float.tflite")
    prepared = prepare(graph)
    assert opcodes(prepared) == opcodes(graph)
    np.testing.assert_array_equal(run(prepared)[0], run(graph)[0])
