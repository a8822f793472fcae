"""C kernels of the float32 and int16 elementwise activations (``mf_activations.c``) against the
Python runtime: single-op graphs through ``verify`` (200 random inputs), every int16 input value
and special / wide float inputs through the built harness, sanitizer builds; int8 inputs still
compile to lookup tables."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from microforge.api import Model
from microforge.backends.c.compiler import compile_model
from microforge.errors import UnsupportedOpError
from microforge.fixedpoint import SIGMOID_TABLE_UINT16
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder
from microforge.targets.host import verify
from tests.builders.arrays import bits
from tests.builders.c import BOTH_BUILDS, run_c

SHAPE = (2, 5, 3)
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(1, 256, 256)
_F = np.float32


def assert_c_matches_runtime(graph: Graph, inputs: list[np.ndarray], work: Path,
                             sanitize: bool = False) -> None:
    got = run_c(graph, inputs, work, sanitize=sanitize)
    want = Model(graph).run(inputs)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(bits(g), bits(w))


def assert_verifies(graph: Graph, work: Path, n: int = 200) -> None:
    compiled = compile_model(graph, work / "verify", name="m")
    result = verify(compiled.directory, "m", graph, n)
    assert result.samples == n and result.differing_bytes == 0, result.first_difference


def unary(op: str, dtype, shape=SHAPE, qin=(None, None), qout=(None, None), **options) -> Graph:
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *qin)
    y = b.tensor("y", shape, dtype, *qout)
    b.op(op, [x], [y], **options)
    b.output(y)
    return b.build()


def special_floats(shape, seed: int) -> np.ndarray:
    """Wide random floats with specials: zeros, infinities, NaN, extremes, denormals and the
    LOGISTIC cutoffs (16.619047, -9) with their float neighbours."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-30, 30, (64,) + shape).astype(_F)
    cut = np.array([16.619047164916992188, -9.0], _F)
    special = np.concatenate([
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38, 1e-45,
                  -1e-45, 1e-38, 6.0, -3.0, 3.0, 22.0, -22.0, 1e-30], _F),
        cut, np.nextafter(cut, _F(np.inf)), np.nextafter(cut, _F(-np.inf)),
    ])
    flat = x.reshape(-1)
    flat[:special.size] = special
    return x


FLOAT_CASES = [("LOGISTIC", {}), ("TANH", {}), ("RELU", {}), ("RELU6", {}), ("HARD_SWISH", {}),
               ("LEAKY_RELU", {"alpha": 0.2}), ("LEAKY_RELU", {"alpha": -1.5}),
               ("LEAKY_RELU", {"alpha": 0.0})]


@pytest.mark.parametrize("op,options", FLOAT_CASES)
def test_float32(op, options, tmp_path):
    graph = unary(op, np.float32, **options)
    assert_verifies(graph, tmp_path)
    assert_c_matches_runtime(graph, [special_floats(SHAPE, seed=len(op))], tmp_path)


def _float_bits(values) -> np.ndarray:
    return np.asarray(values, _F).view(np.int32)


def dense_floats() -> np.ndarray:
    """Float LOGISTIC / TANH inputs over all of [-100, 100]: every 512th float32 of either sign
    (every binade down to the denormals), a uniform grid, 2048 consecutive floats on each side of
    every branch point of the algorithms (tanhf's 2^-55, 9.5 and 22, its expm1f's reduction
    boundaries (k + 1/2) ln2 / 2, the sigmoid cutoffs, expf's 87 / 88 and the underflow to
    denormals) and the specials; as (samples, 256, 1024)."""
    top = int(_float_bits(100.0))
    strided = np.arange(0, top + 1, 512, dtype=np.int32)
    ln2 = np.log(2.0)
    points = np.concatenate([
        [2.0 ** -55, 2.0 ** -26, 1.0, 9.5, 22.0, 9.0, 16.619047164916992188, 87.0, 88.0,
         87.33654475, 103.97],
        (np.arange(0, 40) + 0.5) * ln2 / 2, (np.arange(0, 40) + 0.5) * ln2,
    ])
    around = (_float_bits(points)[:, None] + np.arange(-2048, 2048, dtype=np.int32)).reshape(-1)
    positive = np.concatenate([strided, around]).view(_F)
    special = np.array([np.inf, -np.inf, np.nan, -np.nan, 3.4028235e38, -3.4028235e38, 0.0,
                        -0.0, 1e-45, -1e-45], _F)
    values = np.concatenate([special, positive, -positive,
                             np.linspace(-100, 100, 1 << 20, dtype=_F)])
    per_sample = 256 * 1024
    padded = np.zeros(-(-values.size // per_sample) * per_sample, _F)
    padded[:values.size] = values
    return padded.reshape(-1, 256, 1024)


@BOTH_BUILDS
@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_float_logistic_tanh_dense(op, flags, tmp_path):
    """The SSE2 sigmoid / tanh (glibc's expf and tanhf algorithms four lanes at a time) and the
    portable build's libm calls against the runtime's glibc emulation on ~3.5 M inputs."""
    xs = dense_floats()
    graph = unary(op, np.float32, xs.shape[1:])
    got = run_c(graph, [xs], tmp_path, flags=flags)[0]
    with np.errstate(all="ignore"):
        want = Model(graph).run([xs])[0]
    np.testing.assert_array_equal(bits(got), bits(want))


# (op, input scale): power-of-two scales take TFLM's 3 << shift multiplier, others the general
# multiplier; large scales saturate.
LUT16_CASES = [("LOGISTIC", 2.0 ** -12), ("LOGISTIC", 2.0 ** -11), ("LOGISTIC", 1 / 3000),
               ("LOGISTIC", 0.003), ("TANH", 2.0 ** -12), ("TANH", 2.0 ** -11),
               ("TANH", 2.0 ** -13), ("TANH", 1e-4), ("TANH", 0.002)]


@pytest.mark.parametrize("op,scale", LUT16_CASES)
def test_int16_logistic_tanh_every_value(op, scale, tmp_path):
    graph = unary(op, np.int16, ALL_INT16.shape[1:], (scale, 0), (2.0 ** -15, 0))
    assert_verifies(graph, tmp_path)
    assert_c_matches_runtime(graph, [ALL_INT16], tmp_path)


def _quant(rng: np.random.Generator, zero: bool) -> tuple[float, int]:
    scale = float(_F(10 ** rng.uniform(-4.5, -2.5)))
    return scale, 0 if zero else int(rng.integers(-500, 500))


RELU16_CASES = ([("RELU", {}, seed) for seed in range(3)]
                + [("RELU6", {}, seed) for seed in range(3)]
                + [("LEAKY_RELU", {"alpha": a}, seed)
                   for seed, a in enumerate([0.2, 0.01, 1.5, -0.3, 0.0])])


@pytest.mark.parametrize("op,options,seed", RELU16_CASES)
def test_int16_relu_family_every_value(op, options, seed, tmp_path):
    rng = np.random.default_rng(seed)
    zero = op == "RELU"  # TFLM's int16 RELU needs zero points 0
    qin, qout = _quant(rng, zero), _quant(rng, zero)
    if op == "RELU6" and seed == 0:
        qin = (1e-5, qin[1])  # 6.0 saturates to the int16 maximum
    graph = unary(op, np.int16, ALL_INT16.shape[1:], qin, qout, **options)
    assert_verifies(graph, tmp_path)
    assert_c_matches_runtime(graph, [ALL_INT16], tmp_path)


@pytest.mark.parametrize("op,dtype,qin,qout,options", [
    ("LOGISTIC", np.float32, (None, None), (None, None), {}),
    ("TANH", np.int16, (1 / 3000, 0), (2.0 ** -15, 0), {}),
    ("LEAKY_RELU", np.int16, (0.001, 7), (0.002, -3), {"alpha": -0.3}),
    ("HARD_SWISH", np.float32, (None, None), (None, None), {}),
])
def test_sanitizer_builds(op, dtype, qin, qout, options, tmp_path):
    shape = ALL_INT16.shape[1:] if dtype == np.int16 else SHAPE
    graph = unary(op, dtype, shape, qin, qout, **options)
    x = ALL_INT16 if dtype == np.int16 else special_floats(SHAPE, seed=1)
    assert_c_matches_runtime(graph, [x], tmp_path, sanitize=True)


def test_int8_inputs_still_compile_to_tables(tmp_path):
    graph = unary("TANH", np.int8, SHAPE, (0.05, 3), (1 / 128, 0))
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    source = (compiled.directory / "m.c").read_text()
    assert "mf_lut_s8_s8(" in source and "mf_tanh" not in source
    assert_verifies(graph, tmp_path)


def test_wide_kernels_run_in_place(tmp_path):
    b = GraphBuilder()
    x = b.input("x", SHAPE, np.float32)
    h1 = b.tensor("h1", SHAPE, np.float32)
    h2 = b.tensor("h2", SHAPE, np.float32)
    y = b.tensor("y", SHAPE, np.float32)
    b.op("HARD_SWISH", [x], [h1])
    b.op("TANH", [h1], [h2])
    b.op("RELU6", [h2], [y])
    b.output(y)
    graph = b.build()
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert compiled.op_rows[1]["in_place"]
    assert_verifies(graph, tmp_path)


def test_int16_hard_swish_is_refused():
    graph = unary("HARD_SWISH", np.int16, SHAPE, (0.001, 0), (0.001, 0))
    with pytest.raises(UnsupportedOpError):
        compile_model(graph, Path("/nonexistent-never-written"), name="m")


def test_sigmoid_table_in_c_is_the_runtime_table():
    text = (resources.files("microforge.backends.c") / "portable" / "mf_activations.c").read_text()
    body = re.search(r"mf_sigmoid_table_u16\[256\] = \{([^}]*)\}", text).group(1)
    values = [int(v) for v in body.replace("\n", " ").split(",") if v.strip()]
    np.testing.assert_array_equal(values, SIGMOID_TABLE_UINT16)
