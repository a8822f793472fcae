"""IR helpers: QuantParams, GraphBuilder and extract_operator."""

import numpy as np

from microforge.frontends.tflite.reader import read_tflite
from microforge.ir import QuantParams
from microforge.ir.builder import GraphBuilder, extract_operator
from tests.oracle import MODELS


def test_quant_params():
    q = QuantParams(scale=[0.5, 0.25], zero_point=[0, 0], axis=3)
    assert q.per_channel and q.is_quantized and q.scalar_scale == 0.5
    assert q == QuantParams(scale=np.array([0.5, 0.25]), zero_point=np.zeros(2), axis=3)
    assert q != QuantParams(scale=[0.5, 0.25], zero_point=[0, 0], axis=0)


def test_builder_constants_are_read_only():
    b = GraphBuilder()
    w = b.const("w", np.arange(6).reshape(2, 3), np.int8, scale=0.1, zero_point=0)
    data = b.build().main.tensors[w].data
    assert data.dtype == np.int8 and not data.flags.writeable


def test_extract_operator_keeps_state_and_constants():
    graph = read_tflite(MODELS / "keyword_scrambled.tflite")
    one = extract_operator(graph, 1)  # an SVDF
    sg = one.main
    assert [op.opcode for op in sg.operators] == ["SVDF"]
    assert len(sg.inputs) == 1 and sg.tensors[sg.inputs[0]].data is None
    assert any(t.is_variable for t in sg.tensors)
    assert sum(t.data is not None and not t.is_variable for t in sg.tensors) == 3
