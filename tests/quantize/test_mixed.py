"""``--mixed``: int16 activations on some parameter groups of an int8 model, within a RAM budget.
Each operator runs in one type (16x8: int16 activations, int64 bias; or int8), QUANTIZE converts
between the types, and tflite-micro runs the result bit-exactly."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import InputError
from microforge.quantize.mixed import activation_ram
from tests.builders.quant_graphs import chain, skewed_inputs
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity


def _check_types(graph):
    sg = graph.main
    for op in sg.operators:
        if op.opcode in ("QUANTIZE", "DEQUANTIZE"):
            continue
        out = sg.tensors[op.outputs[0]]
        acts = [sg.tensors[t] for t in op.inputs if t >= 0 and sg.tensors[t].data is None]
        assert all(t.dtype == out.dtype for t in acts), op.opcode
        if out.dtype == np.int16:
            assert out.zero_point == 0 and all(t.zero_point == 0 for t in acts)
            if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 2:
                assert sg.tensors[op.inputs[2]].dtype == np.int64


def _budget_models():
    x = skewed_inputs((1, 8, 8, 3))
    base = microforge.quantize(chain(), x)
    return x, base, activation_ram(base.graph)


def test_mixed_within_budget_matches_tflm():
    tflm_runtime()
    x, base, ram = _budget_models()
    model = microforge.quantize(chain(), x, mixed=True, max_ram=4 * ram)
    m = model.mixed
    assert m["ram_int8"] == ram and m["ram_mixed"] <= 4 * ram
    assert m["output_sqnr_mixed_db"] >= m["output_sqnr_int8_db"]
    assert m["int16_layers"] == len(m["layers"]) > 0
    _check_types(model.graph)
    assert model.inputs[0].dtype == np.int8 and model.outputs[0].dtype == np.int8
    assert assert_tflm_parity(model) == 200
    wide = {d.name for d in model.details if d.dtype == "int16"}
    assert wide == set(m["layers"])
    assert "int16 activations" in str(model.report())


def test_forced_int16_groups_run_in_tflm():
    """Every eligible group int16 at once (a budget no model reaches, and the SQNR rule off):
    conversions both ways, int16 ADD / DEPTHWISE / RESHAPE next to int8 SOFTMAX."""
    tflm_runtime()
    from microforge.passes import prepare
    from microforge.quantize.convert import convert

    graph = prepare(chain())
    ranges = {i: (-4.0, 6.0) for i, t in enumerate(graph.main.tensors)
              if t.dtype == np.float32 and t.data is None}
    wide = {i for i, t in enumerate(graph.main.tensors) if t.name in ("conv", "dw", "sum", "flat")}
    converted = convert(graph, ranges, wide=wide)
    sg = converted.graph.main
    assert {sg.tensors[op.outputs[0]].dtype.name for op in sg.operators} == {"int8", "int16"}
    _check_types(converted.graph)
    assert assert_tflm_parity(microforge.Model(converted.graph)) == 200


def test_a_tiny_budget_keeps_int8():
    x, base, ram = _budget_models()
    model = microforge.quantize(chain(), x, mixed=True, max_ram=ram)
    assert model.mixed["ram_mixed"] <= ram
    assert all(t.dtype != np.int16 for t in model.graph.main.tensors)


def test_mixed_needs_a_budget_and_int8():
    x = skewed_inputs((1, 8, 8, 3), n=16)
    with pytest.raises(InputError, match="--max-ram"):
        microforge.quantize(chain(), x, mixed=True)
    with pytest.raises(InputError, match="--int16-activations"):
        microforge.quantize(chain(), x, mixed=True, max_ram=10**6, int16_activations=True)
