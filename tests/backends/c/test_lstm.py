"""C kernel of UNIDIRECTIONAL_SEQUENCE_LSTM (``mf_lstm.c``) against the Python runtime: the three
LSTM models whole, every LSTM op of them alone, other batch sizes / sequence lengths / layouts,
cell clip on and off, float gates driven past the sigmoid cutoffs, LSTMs cut down to unit counts
and input sizes off the kernels' blocks (four gate rows, 16-element int16 rows, four-wide float
columns), sanitizer builds; the float cases also in the portable (``-DMF_NO_SIMD``) build, whose
gate matvecs, sigmoid and tanh are not the SSE2 ones. ``verify`` runs stateful models as
sequences of 10 invokes with a reset between sequences."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.api import Model
from microforge.backends.c.compiler import compile_model
from microforge.frontends.tflite.reader import read_tflite
from microforge.ir import Graph
from microforge.targets.host import verify
from tests.builders.arrays import bits
from tests.builders.c import BOTH_BUILDS, NO_SIMD, run_c
from tests.builders.ops import LSTM_REAL_OPS, lstm_model
from tests.oracle import MODELS

LSTM_MODELS = ["trained_lstm_int8.tflite", "trained_lstm.tflite", "dtln_noise_suppression.tflite"]




def assert_verifies(graph: Graph, work, n: int = 200, sanitize_n: int = 0,
                    flags: list[str] | None = None) -> None:
    compiled = compile_model(graph, work / "lib", name="m")
    result = verify(compiled.directory, "m", graph, n, extra_flags=flags)
    assert result.samples == n and result.differing_bytes == 0, result.first_difference
    if sanitize_n:
        result = verify(compiled.directory, "m", graph, sanitize_n, sanitize=True, seed=1,
                        extra_flags=flags)
        assert result.ok, result.first_difference


@pytest.mark.parametrize("name", LSTM_MODELS)
def test_whole_models(name, tmp_path):
    assert_verifies(read_tflite(MODELS / name), tmp_path, sanitize_n=20)


def test_float_model_portable_build(tmp_path):
    assert_verifies(read_tflite(MODELS / "trained_lstm.tflite"), tmp_path, sanitize_n=10,
                    flags=NO_SIMD)


@pytest.mark.parametrize("name,index", LSTM_REAL_OPS)
def test_real_lstm_ops(name, index, tmp_path):
    assert_verifies(read_tflite(lstm_model(name, index)), tmp_path)


@pytest.mark.parametrize("name", ["trained_lstm_int8.tflite", "trained_lstm.tflite"])
@pytest.mark.parametrize("time_major", [False, True])
def test_batch_and_layout(name, time_major, tmp_path):
    graph = read_tflite(lstm_model(name, 0, batch=3, steps=5, time_major=time_major))
    assert_verifies(graph, tmp_path, sanitize_n=10)


@pytest.mark.parametrize("clip", [0.0, 0.05])
def test_int8_cell_clip(clip, tmp_path):
    """dtln's first LSTM (cell scale 2**-11) with int16 saturation instead of a clip, and a tight
    clip."""
    assert_verifies(read_tflite(lstm_model("dtln_noise_suppression.tflite", 0, steps=3,
                                           cell_clip=clip)), tmp_path)


def _sliced_lstm(name: str, units: int, n_in: int) -> Graph:
    """Op 0 of ``name`` (2 sequences of 4 steps) keeping only its first ``units`` units and
    ``n_in`` inputs: every weight matrix, bias and state cut to size, scales unchanged."""
    graph = read_tflite(lstm_model(name, 0, batch=2, steps=4))
    sg = graph.main
    op = sg.operators[0]
    for i in range(1, 16):
        t = sg.tensors[op.inputs[i]] if op.inputs[i] >= 0 else None
        if t is None or t.data is None:
            continue
        cols = n_in if i <= 4 else units
        data = t.data[:units, :cols] if t.data.ndim == 2 else t.data[:units]
        t.data, t.shape = np.ascontiguousarray(data), data.shape
    x, out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
    x.shape, out.shape = x.shape[:2] + (n_in,), out.shape[:2] + (units,)
    for i in (18, 19):
        sg.tensors[op.inputs[i]].shape = (2, units)
    return graph


@pytest.mark.parametrize("name,units,n_in", [
    ("trained_lstm_int8.tflite", 7, 19), ("trained_lstm_int8.tflite", 5, 16),
    ("trained_lstm_int8.tflite", 17, 3), ("trained_lstm.tflite", 7, 19),
    ("trained_lstm.tflite", 3, 2), ("trained_lstm.tflite", 11, 28),
    ("dtln_noise_suppression.tflite", 13, 100),
])
def test_sizes_off_the_blocks(name, units, n_in, tmp_path):
    assert_verifies(_sliced_lstm(name, units, n_in), tmp_path, sanitize_n=10)


def _scaled_float_lstm(factor: float, **options) -> Graph:
    """trained_lstm's LSTM with weights and biases scaled: gates beyond the sigmoid cutoffs."""
    graph = read_tflite(lstm_model("trained_lstm.tflite", 0, steps=6, **options))
    sg = graph.main
    for i in range(1, 16):
        t = sg.operators[0].inputs[i]
        if t >= 0 and sg.tensors[t].data is not None:
            sg.tensors[t].data = (sg.tensors[t].data * np.float32(factor)).astype(np.float32)
    return graph


@BOTH_BUILDS
@pytest.mark.parametrize("clip", [0.0, 0.5])
def test_float_saturating_gates(clip, flags, tmp_path):
    assert_verifies(_scaled_float_lstm(30.0, cell_clip=clip), tmp_path, sanitize_n=10,
                    flags=flags)


@pytest.mark.parametrize("flags", [NO_SIMD, ["-Os"]], ids=["portable", "simd-Os"])
@pytest.mark.parametrize("units,n_in", [(7, 19), (3, 2), (11, 28)])
def test_float_sizes_off_the_blocks_other_builds(units, n_in, flags, tmp_path):
    """The portable build and the SSE2 one at -Os (gate passes of 4 vectors instead of 12)."""
    assert_verifies(_sliced_lstm("trained_lstm.tflite", units, n_in), tmp_path, flags=flags)


@BOTH_BUILDS
def test_float_special_inputs_over_sequences(flags, tmp_path):
    """Sequences of 4 invokes with wide inputs and, in one sample each, a NaN, an infinity, float
    extremes, -0.0 everywhere, denormals (a NaN or infinity reaches the state and stays until the
    reset)."""
    graph = _scaled_float_lstm(1.0)
    x = graph.main.tensors[graph.main.inputs[0]]
    xs = np.random.default_rng(3).uniform(-30, 30, (40,) + x.shape).astype(np.float32)
    xs[1, 0, 0, 0] = np.nan
    xs[5, 0, 3, 7] = np.inf
    xs[9, 0, 5, 1] = -np.inf
    xs[13, 0, :, 0] = 3.4028235e38
    xs[14, 0, :, 1] = -3.4028235e38
    xs[17] = -0.0
    xs[21] = 1e-45
    got = run_c(graph, [xs], tmp_path, reset_every=4, flags=flags)[0]
    model = Model(graph)
    want = []
    with np.errstate(all="ignore"):
        for start in range(0, len(xs), 4):
            model.reset()
            want += [model.run(xs[i:i + 1])[0] for i in range(start, start + 4)]
    want = np.concatenate(want)
    assert 0 < np.isnan(want).mean() < 0.5
    np.testing.assert_array_equal(bits(got), bits(want))


def test_state_and_gate_scratch_layout(tmp_path):
    """The gate pre-activations of one sequence row and the int16 copies of x and h (zero-padded to
    multiples of 16) go to arena scratch; hidden and cell state are static buffers restored by the
    reset."""
    graph = read_tflite(MODELS / "dtln_noise_suppression.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    rows = compiled.op_rows
    assert [r["scratch_bytes"] for r in rows[:2]] == [2 * (272 + 128 + 4 * 128),
                                                       2 * (128 + 128 + 4 * 128)]
    source = (compiled.directory / "m.c").read_text()
    assert source.count("mf_lstm_s8(") == 2
