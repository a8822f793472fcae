"""Oracle tests of SVDF against tflite-micro, over sequences of invokes (the op is stateful).

Every case runs B independent sequences of T invokes: TFLM one sequence at a time from a fresh
(reset) interpreter, microforge as one model fed the whole batch of B per step, and once more with
a ``reset()`` in the middle of the sequences.
"""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from tests.builders.ops import SVDF_REAL_OPS, float_svdf_model, int_svdf_model
from tests.oracle import MODELS
from tests.runtime._parity import (
    assert_sequence_parity,
    assert_whole_model_parity,
    sequences,
)


@pytest.mark.parametrize("name,index", SVDF_REAL_OPS)
def test_real_svdf_ops_over_sequences(name, index):
    """int16 state (keyword_scrambled) and int8 state with nonzero zero points (_8bit)."""
    data = write_tflite(extract_operator(read_tflite(MODELS / name), index))
    x = microforge.load(data).inputs[0]
    xs = sequences(x.shape, x.dtype, seed=index)
    assert_sequence_parity(data, xs)
    assert_sequence_parity(data, xs, reset_at=4)


def test_int8_state_saturates_and_wraps_like_tflm():
    """int8 state, zero point 100, large scale_1: the feature value saturates at 127 and the zero
    point pushes it past the int8 range; TFLM stores it with a wrapping conversion. Also rank 2,
    model batch 2 and a fused RELU, which the integer path does not apply."""
    data = int_svdf_model(np.int8, seed=1)
    xs = sequences((2, 12), np.int8, seed=11)
    got = assert_sequence_parity(data, xs)
    assert (got < -5).any()  # below the output zero point: no RELU on the integer path
    assert_sequence_parity(data, xs, reset_at=6)


def test_int16_state_time_accumulator_wraps_like_tflm():
    """Saturated int16 state times full-range int16 time weights over 4 taps overflows int32."""
    data = int_svdf_model(np.int16, seed=2, scale_state=0.001, state_zp=0, scale_wt=0.0005)
    xs = sequences((2, 12), np.int8, seed=12)
    assert_sequence_parity(data, xs, reset_at=3)


@pytest.mark.parametrize("activation", [0, 1, 2, 3, 4])
def test_float_svdf(activation):
    """float32 in TFLM's accumulation order; NONE, RELU, RELU_N1_TO_1, RELU6, TANH."""
    data = float_svdf_model(activation, seed=activation)
    xs = sequences((2, 10), np.float32, seed=20 + activation, scale=3.0)
    assert_sequence_parity(data, xs, reset_at=5)


def test_float_svdf_rank_one():
    data = float_svdf_model(0, seed=9, rank=1)
    assert_sequence_parity(data, sequences((2, 10), np.float32, seed=30))


def test_state_is_per_batch_row_and_reset_restores_zero_point():
    """Batch rows keep separate state; after reset() the first output equals a fresh model's."""
    data = int_svdf_model(np.int8, seed=3, scale_in=0.05)
    xs = sequences((2, 12), np.int8, seed=13)
    model = microforge.load(data)
    first = model.run(xs[:, 0])[0]
    model.run(xs[:, 1])
    model.reset()
    np.testing.assert_array_equal(model.run(xs[:, 0])[0], first)
    model.reset()
    np.testing.assert_array_equal(model.run(xs[:1, 0])[0], first[:1])


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_svdf_without_bias_is_rejected(dtype):
    """TFLM crashes on an SVDF without bias (both paths); microforge refuses it."""
    q = (0.1, 0) if dtype == np.int8 else (None, None)
    state_dtype = np.int16 if dtype == np.int8 else dtype
    b = GraphBuilder()
    x = b.input("x", (1, 4), dtype, *q)
    wf = b.const("wf", np.ones((2, 4)), dtype, *q)
    wt = b.const("wt", np.ones((2, 3)), state_dtype, *q)
    state = b.tensor("state", (1, 6), state_dtype, *q, variable=True)
    y = b.tensor("y", (1, 2), dtype, *q)
    b.op("SVDF", [x, wf, wt, -1, state], [y], rank=1, fused_activation_function=0)
    b.output(y)
    with pytest.raises(UnsupportedOpError, match="bias"):
        microforge.load(write_tflite(b.build()))


@pytest.mark.parametrize("name", ["keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite"])
def test_whole_keyword_models_over_sequences(name):
    """20 sequences x 10 invokes (200 random int16 inputs) through QUANTIZE, 7 SVDFs,
    FULLY_CONNECTED, SOFTMAX, QUANTIZE; every SVDF output compared too (the scrambled model's
    final output is constant), straight through and with a reset after 4 steps."""
    xs = sequences((1, 96), np.int16, seed=40)
    assert_whole_model_parity(name, xs)
    assert_whole_model_parity(name, xs, reset_at=4)


def test_scales_whose_ratio_overflows_float32_are_one_model_error_without_a_warning(models_dir):
    """TFLM computes ``s_state * s_wt / s_out`` in float32: finite scales can make it inf. That is
    one ModelError naming the operator, and no numpy warning (a fuzz campaign finding)."""
    import warnings
    from dataclasses import replace

    from microforge.errors import ModelError
    from microforge.frontends import read_model
    from microforge.ir import QuantParams
    from microforge.runtime.registry import prepare_supported

    graph = read_model(models_dir / "keyword_scrambled_8bit.tflite")
    sg = graph.main
    index, op = next((k, o) for k, o in enumerate(sg.operators) if o.opcode == "SVDF")
    out = sg.tensors[op.outputs[0]]
    sg.tensors[op.outputs[0]] = replace(out, quant=QuantParams(
        scale=np.array([1e-44], np.float32), zero_point=out.quant.zero_point, axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ModelError, match=f"operator {index} .SVDF.: a quantization multiplier is inf"):
            prepare_supported(sg)
