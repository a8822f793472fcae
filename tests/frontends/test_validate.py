"""Validation at the reader boundary (frontends/validate.py, issue 15): each finding of the issue's
mutation run, rebuilt on a real model and written back as a .tflite, is one ModelError naming the
field, from ``read_model`` -- so ``inspect`` and ``load`` reject it alike; and the resource
limits hold before anything is allocated."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from microforge.api import Model, load
from microforge.errors import ModelError, UnsupportedOpError
from microforge.frontends import read_model, write_tflite
from microforge.frontends.validate import validate_graph
from microforge.ir import Graph, Operator, QuantParams, Subgraph
from microforge.ir.builder import GraphBuilder
from tests.builders.cli import assert_one_line_error, cli


@pytest.fixture
def hello(models_dir) -> Graph:
    return read_model(models_dir / "hello_world_int8.tflite")  # FC [0, 6, 5] -> 7 -> 8 -> 9


@pytest.fixture
def speech(models_dir) -> Graph:
    return read_model(models_dir / "micro_speech_quantized.tflite")  # RESHAPE, DW, FC, SOFTMAX


def _reread(graph: Graph) -> bytes:
    return write_tflite(graph)


def _rejected(graph: Graph, *words: str, error: type = ModelError) -> str:
    with pytest.raises(error) as exc:
        read_model(_reread(graph))
    for w in words:
        assert w in str(exc.value), str(exc.value)
    return str(exc.value)


def test_fully_connected_weights_of_rank_1_name_the_input(hello):
    sg = hello.main
    w = sg.tensors[6]
    sg.tensors[6] = replace(w, shape=(16,), data=w.data.reshape(16))
    _rejected(hello, "operator 0 (FULLY_CONNECTED) input 1", "rank 2")


def test_weights_without_a_buffer_are_refused(speech):
    sg = speech.main
    sg.tensors[8] = replace(sg.tensors[8], data=None)  # the depthwise filter
    _rejected(speech, "operator 1 (DEPTHWISE_CONV_2D) input 1", "no data")


def test_fully_connected_weights_without_a_buffer_are_never_read(hello):
    hello.main.tensors[6] = replace(hello.main.tensors[6], data=None)
    _rejected(hello, "operator 0 (FULLY_CONNECTED) input 1 reads tensor 6", "before any operator")


def test_nan_scale(speech):
    t = speech.main.tensors[3]
    t.quant = QuantParams(np.float32([np.nan]), t.quant.zero_point)
    _rejected(speech, "tensor 3", "scale that is not finite")


def test_zero_point_outside_int8(speech):
    t = speech.main.tensors[3]
    t.quant = QuantParams(t.quant.scale, np.int64([-1073741952]))
    _rejected(speech, "tensor 3", "zero point outside the INT8 range")


def test_reshape_to_another_element_count(speech):
    sg = speech.main
    sg.tensors[4] = replace(sg.tensors[4], shape=(1, 1, 16))
    _rejected(speech, "operator 0 (RESHAPE)", "16 elements", "1960")


def test_fully_connected_output_that_weights_do_not_make(hello):
    sg = hello.main
    sg.tensors[9] = replace(sg.tensors[9], shape=(1, 1, 16))
    _rejected(hello, "operator 2 (FULLY_CONNECTED)", "do not agree")


def test_fused_activation_minus_one_is_an_unsupported_op_error(hello):
    hello.main.operators[0].options["fused_activation_function"] = -1
    _rejected(hello, "operator 0 (FULLY_CONNECTED)", "fused_activation_function = -1",
              error=UnsupportedOpError)


def test_per_channel_scales_one_per_channel(speech):
    t = speech.main.tensors[8]  # depthwise filter (1, 10, 8, 8), channels on axis 3
    t.quant = QuantParams(np.full(5, 0.01, np.float32), np.zeros(5, np.int64), axis=3)
    _rejected(speech, "tensor 8", "5 quantization scales for 8 channels")


def test_operator_index_past_the_tensors(hello):
    hello.main.operators[1].inputs[0] = 99
    with pytest.raises(ModelError, match="refers to tensor 99"):
        validate_graph(hello)


def test_subgraph_references_must_not_cycle():
    def sg(index: int) -> Subgraph:
        return Subgraph([], [Operator("CALL_ONCE", [], [], {"init_subgraph_index": index})], [], [])

    with pytest.raises(ModelError, match="a cycle"):
        validate_graph(Graph([sg(1), sg(0)]))
    with pytest.raises(ModelError, match="init_subgraph_index = 7"):
        validate_graph(Graph([sg(7)]))


def test_a_model_without_inputs_runs():
    b = GraphBuilder()
    a = b.const("a", np.float32([[1, 2]]))
    c = b.const("c", np.float32([[10, 20]]))
    y = b.tensor("y", (1, 2), np.float32)
    b.op("ADD", [a, c], [y])
    b.output(y)
    model = load(write_tflite(b.build()))
    assert model.inputs == []
    np.testing.assert_array_equal(model.run([])[0], [[11, 22]])
    np.testing.assert_array_equal(model.run(None)[0], [[11, 22]])


def test_a_hostile_shape_is_refused_before_anything_is_allocated(hello):
    hello.main.tensors[7] = replace(hello.main.tensors[7], shape=(1, 2**16, 2**15))
    start = time.perf_counter()
    _rejected(hello, "tensor 7", "2,147,483,648", "MICROFORGE_MAX_TENSOR_BYTES")
    assert time.perf_counter() - start < 5


def test_limits_are_overridable(hello, models_dir, monkeypatch):
    data = _reread(hello)
    monkeypatch.setenv("MICROFORGE_MAX_OPERATORS", "2")
    with pytest.raises(ModelError, match="operator count 3 exceeds the limit of 2; .*MAX_OPERATORS"):
        read_model(data)
    monkeypatch.setenv("MICROFORGE_MAX_OPERATORS", "3")
    read_model(data)
    monkeypatch.setenv("MICROFORGE_MAX_FILE_BYTES", "1000")
    with pytest.raises(ModelError, match="file size .* MICROFORGE_MAX_FILE_BYTES"):
        read_model(models_dir / "hello_world_int8.tflite")


def test_inspect_rejects_what_load_rejects(hello, tmp_path):
    """A bias whose scale TFLM's FULLY_CONNECTED Prepare refuses: validation cannot know the
    kernel's rule, the kernel's prepare does, and inspect runs it as load does."""
    t = hello.main.tensors[5]
    t.quant = QuantParams(t.quant.scale * 4, t.quant.zero_point)
    path = tmp_path / "bias.tflite"
    path.write_bytes(_reread(hello))
    with pytest.raises(UnsupportedOpError) as exc:
        Model(read_model(path))
    code, _, err = cli("inspect", path)
    assert_one_line_error(code, err, 1, str(exc.value))


def test_a_nan_weight_runs_as_in_tflm_and_verifies(models_dir, tmp_path):
    """A NaN in float constant data (a fuzzed Keras bias did it) is legal TFLite: TFLM runs it and
    every output it reaches is NaN. microforge does the same, and ``compile --verify`` counts a
    NaN on both sides as equal although C and numpy make different NaN bit patterns."""
    from microforge.compiler import compile as compile_model

    graph = read_model(models_dir / "hello_world_float.tflite")
    k = next(i for i, t in enumerate(graph.main.tensors) if t.data is not None and t.data.size > 1)
    t = graph.main.tensors[k]
    data = np.array(t.data, copy=True)
    data.flat[:] = np.nan
    graph.main.tensors[k] = replace(t, data=data)
    (y,) = Model(graph).run(np.ones((4, 1), np.float32))
    assert np.isnan(y).all()
    report = compile_model(graph, tmp_path / "out", name="m", verify=2)
    assert not report.failure


@pytest.mark.parametrize("k, outputs, words", [
    (2, [0, 9], "which is a model input"),
    (1, [8, 6], "which is a constant"),
    (1, [8, 7], "written by an earlier operator"),
])
def test_an_operator_writes_only_its_own_tensors(hello, k, outputs, words):
    """TFLite tensors are written once: an operator listing a model input, a constant or an
    earlier operator's output among its outputs is malformed (the shapes here agree)."""
    sg = hello.main
    sg.operators[k] = replace(sg.operators[k], outputs=outputs)
    _rejected(hello, f"operator {k} (FULLY_CONNECTED) writes tensor", words)


def test_an_operator_listing_one_output_twice_is_refused(hello):
    sg = hello.main
    sg.operators[1] = replace(sg.operators[1], outputs=[8, 8])
    _rejected(hello, "operator 1 (FULLY_CONNECTED) lists tensor 8", "twice among its outputs")
