"""Reader/writer round trip on every shared model: read → write → read gives the same graph, and
tflite-micro gives identical outputs for the original and the rewritten file."""

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.compare import graph_differences
from tests.builders.arrays import random_inputs
from tests.oracle import MODELS, tflm_run

ALL_MODELS = sorted(p.name for p in MODELS.glob("*.tflite"))
# person_detect_vela needs the Ethos-U NPU op, which the TFLM host build cannot run.
RUNNABLE = [m for m in ALL_MODELS if m != "person_detect_vela.tflite"]


@pytest.mark.parametrize("name", ALL_MODELS)
def test_read_write_read_is_identity(name):
    graph = read_tflite(MODELS / name)
    again = read_tflite(write_tflite(graph))
    assert graph_differences(graph, again) == []


@pytest.mark.parametrize("name", RUNNABLE)
def test_rewritten_model_runs_identically_in_tflm(name):
    path = MODELS / name
    graph = read_tflite(path)
    data = write_tflite(graph)
    sg = graph.main
    samples = []
    per_input = [
        random_inputs(sg.tensors[i].shape, sg.tensors[i].dtype, 8, seed=k)
        for k, i in enumerate(sg.inputs)
    ]
    samples = [[arr[j] for arr in per_input] for j in range(8)]
    expected = tflm_run(path, samples, reset_each=False)
    got = tflm_run(data, samples, reset_each=False)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)


def test_constant_data_is_read_only_view():
    graph = read_tflite(MODELS / "hello_world_int8.tflite")
    const = [t for t in graph.main.tensors if t.data is not None]
    assert const and all(not t.data.flags.writeable for t in const)


def test_person_detect_quantization_is_accepted():
    graph = read_tflite(MODELS / "person_detect.tflite")
    weights = [t for t in graph.main.tensors if t.data is not None and t.dtype == np.int8]
    assert any(t.quant is not None and t.quant.per_channel for t in weights)


def test_prelu_and_resize_options_round_trip_byte_identically():
    """Built in code (no options table named): the writer gives RESIZE_NEAREST_NEIGHBOR its
    ResizeNearestNeighborOptions (both bools kept) and PRELU none; write(read(file)) == file."""
    from tests.builders.prelu_resize import prelu_model, resize_model

    for b in [prelu_model(np.int8, (1, 4, 5, 3), (1, 1, 3), 0),
              resize_model(np.float32, (1, 4, 5, 3), (7, 9), True, True),
              resize_model(np.int8, (1, 4, 5, 3), (2, 3), False, True, quant=(0.05, 3))]:
        data = write_tflite(b.build())
        graph = read_tflite(data)
        assert write_tflite(graph) == data
        assert graph_differences(graph, read_tflite(write_tflite(graph))) == []
        op = graph.main.operators[0]
        if op.opcode == "RESIZE_NEAREST_NEIGHBOR":
            assert op.options == dict(b.operators[0].options)


@pytest.mark.parametrize("opcode, options", [
    ("SUM", {"keep_dims": True}),
    ("TRANSPOSE_CONV", {"padding": 1, "stride_h": 2, "stride_w": 2}),
    ("RESIZE_BILINEAR", {"align_corners": False, "half_pixel_centers": True}),
])
def test_options_of_operators_made_in_code_are_written(opcode, options):
    """A SUM built in code kept keep_dims only in memory: the writer gave it no ReducerOptions, so
    TFLite (and Vela) read keep_dims false. Every option must survive write and read."""
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), np.int8, 0.1, 0)
    y = b.tensor("y", (1, 4, 4, 2), np.int8, 0.1, 0)
    b.op(opcode, [x], [y], **options)
    b.output(y)
    op = read_tflite(write_tflite(b.build())).main.operators[0]
    for key, value in options.items():
        assert op.options[key] == value, (key, op.options)
