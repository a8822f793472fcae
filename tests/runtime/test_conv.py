"""Oracle tests of CONV_2D and DEPTHWISE_CONV_2D against tflite-micro, plus the Requantizer."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import microforge
from microforge import fixedpoint as fp
from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.common import Requantizer
from tests.builders.arrays import random_inputs, sample
from tests.builders.ops import SAME, VALID, conv_model, conv_weights
from tests.oracle import MODELS
from tests.runtime._parity import assert_parity

N = 200


def _inputs(shape, dtype, seed):
    if dtype == np.float32:
        return random_inputs(shape, dtype, N, seed) * np.float32(3)
    return random_inputs(shape, dtype, N, seed)


def _seed(*key) -> int:
    return zlib.crc32(repr(key).encode()) % 10_000


GEOMETRIES = [
    # (padding, stride, dilation, kernel, input H x W)
    (SAME, 1, 1, (3, 3), (7, 6)),
    (VALID, 1, 1, (3, 3), (7, 6)),
    (SAME, 2, 1, (3, 3), (7, 8)),
    (VALID, 2, 1, (3, 2), (8, 7)),
    (SAME, 1, 2, (3, 3), (9, 7)),
    (VALID, 1, 2, (2, 3), (9, 8)),
    (SAME, 2, 2, (3, 3), (10, 9)),
    (SAME, 1, 1, (1, 1), (5, 5)),
    (SAME, 2, 1, (1, 1), (5, 6)),
    (SAME, 1, 1, (5, 4), (4, 3)),  # filter larger than the image: every window is clipped
]
VARIANTS = [
    # (per_channel, bias, fused activation)
    (True, "int", 0),
    (False, "int", 1),
    (True, None, 3),
    (False, None, 2),
]


def _options(padding, stride, dilation, act):
    return {"padding": padding, "stride_h": stride, "stride_w": stride,
            "dilation_h_factor": dilation, "dilation_w_factor": dilation,
            "fused_activation_function": act}


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("variant", range(len(VARIANTS)))
def test_geometry_and_variants(op, dtype, geometry, variant):
    padding, stride, dilation, k, hw = geometry
    per_channel, bias, act = VARIANTS[variant]
    seed = _seed(op, np.dtype(dtype).name, geometry, variant)
    c_in, c_out = 3, 4
    w = conv_weights(op, k, c_in, c_out, seed, depth_multiplier=1 if op == "CONV_2D" else 2)
    model = conv_model(op, dtype, (1,) + hw + (c_in,), w, _options(padding, stride, dilation, act),
                   per_channel=per_channel, bias=bias, seed=seed)
    assert_parity(model, [_inputs((1,) + hw + (c_in,), dtype, seed)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("multiplier,c_in", [(1, 5), (3, 2), (8, 1)])
def test_depth_multiplier(dtype, multiplier, c_in):
    seed = _seed("dm", np.dtype(dtype).name, multiplier, c_in)
    w = conv_weights("DEPTHWISE_CONV_2D", (3, 3), c_in, 0, seed, multiplier)
    model = conv_model("DEPTHWISE_CONV_2D", dtype, (1, 8, 8, c_in), w,
                   _options(SAME, 2, 1, 1), seed=seed)
    assert_parity(model, [_inputs((1, 8, 8, c_in), dtype, seed)])


SINGLE_CHANNEL_GEOMETRIES = GEOMETRIES + [
    (SAME, 2, 1, (10, 8), (49, 40)),  # micro_speech's depthwise: several strips
    (VALID, 1, 2, (3, 3), (11, 37)),  # dilation, a partial last strip
    (SAME, 3, 1, (4, 5), (9, 50)),
]


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("geometry", SINGLE_CHANNEL_GEOMETRIES, ids=str)
def test_single_input_channel(op, dtype, geometry):
    """One input channel runs as banded matrix products over strips of output columns: strided
    windows for large batches, copied windows for small ones; both equal TFLM."""
    import microforge
    from microforge.frontends.tflite.writer import write_tflite

    padding, stride, dilation, k, hw = geometry
    seed = _seed("single", op, np.dtype(dtype).name, geometry)
    w = conv_weights(op, k, 1, 5, seed, depth_multiplier=5)
    model = conv_model(op, dtype, (1,) + hw + (1,), w, _options(padding, stride, dilation, 1),
                   seed=seed).build()
    xs = _inputs((1,) + hw + (1,), dtype, seed)
    whole = assert_parity(model, [xs])[0]
    small = microforge.load(write_tflite(model))
    parts = [small.run(xs[i:i + 3])[0] for i in range(0, 12, 3)]
    np.testing.assert_array_equal(np.concatenate(parts), whole[:12])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
def test_grouped_conv(dtype):
    """A filter depth dividing the input channels: TFLM's grouped convolution."""
    seed = _seed("groups", np.dtype(dtype).name)
    w = conv_weights("CONV_2D", (3, 3), 2, 6, seed)
    model = conv_model("CONV_2D", dtype, (1, 6, 6, 4), w, _options(SAME, 1, 1, 0), seed=seed)
    assert_parity(model, [_inputs((1, 6, 6, 4), dtype, seed)])


@pytest.mark.parametrize("quantized_bias_type,bias", [(0, None), (2, None), (0, np.int32),
                                                       (0, np.int64)])
def test_conv_16x8_accumulators(quantized_bias_type, bias):
    """16x8 CONV_2D: int32 bias or quantized_bias_type INT32 select int32 accumulators and the
    32-bit multiplier; int64 bias or none the 64-bit ones."""
    seed = _seed("16x8", quantized_bias_type, str(bias))
    w = conv_weights("CONV_2D", (3, 3), 6, 5, seed)
    model = conv_model("CONV_2D", np.int16, (1, 6, 6, 6), w, _options(SAME, 1, 1, 1),
                   bias=bias, seed=seed, quantized_bias_type=quantized_bias_type)
    assert_parity(model, [_inputs((1, 6, 6, 6), np.int16, seed)])


def test_zero_points_at_the_extremes():
    for x_zp, out_zp in [(-128, -128), (127, 127), (-128, 127)]:
        seed = _seed("zp", x_zp, out_zp)
        w = conv_weights("CONV_2D", (3, 3), 4, 6, seed)
        model = conv_model("CONV_2D", np.int8, (1, 5, 5, 4), w, _options(SAME, 1, 1, 0),
                       x_zp=x_zp, out_zp=out_zp, seed=seed)
        assert_parity(model, [_inputs((1, 5, 5, 4), np.int8, seed)])


def test_wide_accumulator_uses_float64():
    """Deep, heavy filters: partial sums beyond 2**24 are accumulated in float64."""
    seed = _seed("wide")
    rng = np.random.default_rng(seed)
    w = rng.choice([-127, 127], (3, 3, 3, 600))
    model = conv_model("CONV_2D", np.int8, (1, 3, 3, 600), w, _options(VALID, 1, 1, 0), seed=seed)
    assert_parity(model, [_inputs((1, 3, 3, 600), np.int8, seed)])


def test_model_batch_dimension():
    """A model batch of 2 per runtime sample."""
    seed = _seed("batch")
    w = conv_weights("CONV_2D", (3, 3), 3, 4, seed)
    model = conv_model("CONV_2D", np.int8, (2, 6, 6, 3), w, _options(SAME, 2, 1, 3), seed=seed)
    assert_parity(model, [_inputs((2, 6, 6, 3), np.int8, seed)])


def test_float_special_values():
    """NaN, infinities, signed zeros and huge values go through the float kernels as in TFLM."""
    for op in ["CONV_2D", "DEPTHWISE_CONV_2D"]:
        w = conv_weights(op, (3, 3), 3, 3, 7).astype(np.float32) / 64
        model = conv_model(op, np.float32, (1, 5, 5, 3), w, _options(SAME, 1, 1, 0), seed=7)
        assert_parity(model, [sample((1, 5, 5, 3), np.float32, 7, scale=4.0)])


def _model_ops(name, opcodes):
    graph = read_tflite(MODELS / name)
    return graph, [i for i, op in enumerate(graph.main.operators) if op.opcode in opcodes]


PERSON = "person_detect.tflite"
SPEECH = "micro_speech_quantized.tflite"


@pytest.mark.parametrize("name,index", [(PERSON, i) for i in _model_ops(
    PERSON, {"CONV_2D", "DEPTHWISE_CONV_2D"})[1]] + [(SPEECH, i) for i in _model_ops(
        SPEECH, {"DEPTHWISE_CONV_2D"})[1]])
def test_model_operator(name, index):
    """Each convolution of the shared models, extracted alone, on 200 random inputs."""
    graph = read_tflite(MODELS / name)
    op = extract_operator(graph, index)
    x = op.main.tensors[op.main.inputs[0]]
    assert_parity(op, [random_inputs(x.shape, x.dtype, N, seed=index)])


def test_requantizer_float_paths_match_fixed_point():
    """The float affine maps reproduce the fixed-point stage on every accumulator value near the
    thresholds and on random ones, for random multipliers, biases and activation ranges."""
    rng = np.random.default_rng(5)
    modes = set()
    for trial in range(60):
        channels = int(rng.integers(1, 20))
        multiplier, shift = fp.quantize_multiplier_array(10 ** rng.uniform(-4.5, 0.5, channels))
        span = int(10 ** rng.uniform(2, 6))
        acc_min, acc_max = -rng.integers(0, span, channels), rng.integers(0, span, channels)
        bias = rng.integers(-span, span, channels)
        lo, hi = sorted(int(v) for v in rng.integers(-128, 128, 2)) if trial % 2 else (-128, 127)
        r = Requantizer(multiplier, shift, bias, int(rng.integers(-128, 128)), lo, hi,
                        acc_min, acc_max, np.int8, np.float32)
        modes.add(r.mode)
        _, thresholds = r._thresholds()
        near = np.concatenate([thresholds.T + d for d in (-2, -1, 0, 1)])
        acc = np.concatenate([near, rng.integers(acc_min, acc_max + 1, (500, channels))])
        acc = np.clip(acc, acc_min, acc_max)
        np.testing.assert_array_equal(r(acc.astype(np.float32)), r.reference(acc).astype(np.int8))
    assert {"float32", "float64"} <= modes


def test_refusals():
    """Variants TFLM cannot run correctly are refused at load time."""
    import microforge
    from microforge.errors import UnsupportedOpError
    from microforge.frontends.tflite.writer import write_tflite

    w = conv_weights("DEPTHWISE_CONV_2D", (3, 3), 2, 0, 1)
    model = conv_model("DEPTHWISE_CONV_2D", np.int8, (1, 5, 5, 2), w, _options(SAME, 1, 1, 0))
    model.operators[0].options["depth_multiplier"] = 0  # TFLM would write no output at all
    hybrid = GraphBuilder()  # float input with an int8 filter
    x = hybrid.input("x", (1, 5, 5, 2), np.float32)
    f = hybrid.const("w", conv_weights("CONV_2D", (3, 3), 2, 2, 1).astype(np.int8), scale=0.1,
                     zero_point=0)
    y = hybrid.tensor("y", (1, 5, 5, 2), np.float32)
    hybrid.op("CONV_2D", [x, f], [y], **_options(SAME, 1, 1, 0))
    hybrid.output(y)
    for b in (model, hybrid):
        with pytest.raises(UnsupportedOpError):
            microforge.load(write_tflite(b.build()))


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("padding", [SAME, VALID])
def test_asymmetric_strides_and_dilations(op, dtype, padding):
    seed = _seed("asym", op, np.dtype(dtype).name, padding)
    w = conv_weights(op, (3, 2), 3, 4, seed, depth_multiplier=1 if op == "CONV_2D" else 2)
    options = {"padding": padding, "stride_h": 1, "stride_w": 3, "dilation_h_factor": 2,
               "dilation_w_factor": 1, "fused_activation_function": 1}
    model = conv_model(op, dtype, (1, 9, 11, 3), w, options, seed=seed)
    assert_parity(model, [_inputs((1, 9, 11, 3), dtype, seed)])


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("stride", [(1, 1_000_003), (2_147_483_647, 1)])
def test_a_stride_past_the_image_is_computed_as_tflm_does(op, stride):
    """A stride beyond the padded input leaves one output row or column (the rest of the windows
    would lie outside the image): computed through the smallest equivalent stride, in time."""
    seed = _seed("huge stride", op, stride)
    w = conv_weights(op, (3, 3), 2, 4, seed, depth_multiplier=1 if op == "CONV_2D" else 2)
    options = {"padding": SAME, "stride_h": stride[0], "stride_w": stride[1],
               "dilation_h_factor": 1, "dilation_w_factor": 1, "fused_activation_function": 0}
    model = conv_model(op, np.int8, (1, 6, 5, 2), w, options, seed=seed)
    assert_parity(model, [_inputs((1, 6, 5, 2), np.int8, seed)])


def test_a_stride_overflowing_tflms_int32_indices_is_refused():
    """An output of 8 columns at stride 2^31 - 1 (a fuzz mutant that hung the runtime): TFLM's
    ``out_x * stride`` overflows int32 there, so there is no result to reproduce."""
    from microforge.errors import ModelError

    w = conv_weights("DEPTHWISE_CONV_2D", (3, 3), 2, 2, 1, depth_multiplier=1)
    options = {"padding": SAME, "stride_h": 1, "stride_w": 1, "dilation_h_factor": 1,
               "dilation_w_factor": 1, "fused_activation_function": 0}
    graph = conv_model("DEPTHWISE_CONV_2D", np.int8, (1, 6, 8, 2), w, options).build()
    graph.main.operators[0].options["stride_w"] = 2 ** 31 - 1
    with pytest.raises(ModelError, match="overflows"):
        microforge.Model(graph)
