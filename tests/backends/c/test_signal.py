"""C kernels of the TFLM signal-library operators (mf_signal.c, mf_signal_fft_*.c) against the
Python runtime: both micro_speech preprocessors whole and operator by operator (extracted, 200
random frames in sequences of 10 with resets), and single-operator models over the parameter
ranges of the runtime's oracle tests, with their input generators (magnitudes, near squares,
every log segment, -32768 amid values, realistic noise floors)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from microforge.api import Model
from microforge.backends.c.compiler import compile_model
from microforge.frontends.tflite.reader import read_tflite
from microforge.ir import Graph
from microforge.ir.builder import extract_operator
from microforge.runtime.reference import Reference, compare_outputs
from microforge.targets.host import build_harness, verify
from tests.builders.arrays import uniform
from tests.builders.c import BOTH_BUILDS, NO_SIMD, as_builder, check, check_inputs, merge
from tests.builders.signal import (
    NOISE_PREPROCESSOR,
    RFFT_CASES,
    SIMD_RFFT_CASES,
    T_CODE,
    auto_scale_inputs,
    bank_tables,
    custom_model,
    energies,
    gain_lut,
    graph_of,
    rfft_inputs,
    rfft_s16_cases,
    sqrt_inputs,
)
from tests.oracle import MODELS

N = 200
PREPROCESSORS = ["audio_preprocessor_int8", "audio_preprocessor_float"]
SIGNAL_OPS = {"SignalWindow", "SignalFftAutoScale", "SignalRfft", "SignalEnergy",
              "SignalFilterBank", "SignalFilterBankSquareRoot",
              "SignalFilterBankSpectralSubtraction", "SignalPCAN", "SignalFilterBankLog"}


def check_sequences(graph: Graph, out: Path, streams: list[np.ndarray],
                    sanitize: bool = False, flags: list[str] | None = None) -> None:
    """Streams ``(S, T) + shape`` per input: each stream from a fresh state (NAME_reset before
    it) through the C library, step by step, and through the runtime (the S streams as one
    batch): every output byte equal."""
    compile_model(graph, out, name="m")
    s, t = streams[0].shape[:2]
    model = Model(graph)
    steps = [model.run([x[:, k] for x in streams]) for k in range(t)]
    expected = [np.stack([step[o] for step in steps], axis=1).reshape((s * t,) + steps[0][o].shape[1:])
                for o in range(len(steps[0]))]
    ref = Reference([x.reshape((s * t,) + x.shape[2:]) for x in streams], expected, s * t, t)
    with tempfile.TemporaryDirectory(prefix="microforge-test-") as tmp:
        work = Path(tmp)
        exe = build_harness(out, "m", graph, work, sanitize=sanitize, extra_flags=flags)
        (work / "in.bin").write_bytes(ref.input_bytes())
        proc = subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin"), str(s * t),
                               str(t)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        result = compare_outputs((work / "out.bin").read_bytes(), graph, ref)
    assert result.differing_bytes == 0, result.first_difference


@pytest.mark.parametrize("model", PREPROCESSORS)
def test_preprocessor_compiles_and_verifies(model, tmp_path):
    graph = read_tflite(MODELS / f"{model}.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name="pre")
    assert compiled.source.state_bytes == 40 * 4  # the noise estimate
    result = verify(compiled.directory, "pre", graph, N)
    assert result.samples == N and result.differing_bytes == 0, result.first_difference
    sanitized = verify(compiled.directory, "pre", graph, 30, sanitize=True, seed=1)
    assert sanitized.differing_bytes == 0, sanitized.first_difference


@pytest.mark.parametrize("flags", [["-O3", "-flto"], ["-O3", "-flto", *NO_SIMD]],
                         ids=["simd", "portable"])
def test_preprocessor_with_the_benchmark_flags(flags, tmp_path):
    """The int8 preprocessor built as benchmarks/c_vs_tflm.py builds it (-O3 -flto: whole-program
    inlining, where gcc sees the constant loop bounds), both paths."""
    graph = read_tflite(MODELS / "audio_preprocessor_int8.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name="pre")
    result = verify(compiled.directory, "pre", graph, 60, extra_flags=flags)
    assert result.differing_bytes == 0, result.first_difference


@pytest.mark.parametrize("model", PREPROCESSORS)
def test_extracted_signal_operators(model, tmp_path):
    """Every signal operator of the model on its own: random full-range frames, 20 sequences of
    10 (the spectral subtraction's state carried, reset between sequences)."""
    graph = read_tflite(MODELS / f"{model}.tflite")
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode in SIGNAL_OPS]
    assert {graph.main.operators[i].opcode for i in indices} == SIGNAL_OPS
    merged = merge([as_builder(extract_operator(graph, i)) for i in indices]).build()
    check(merged, tmp_path, n=N)


def test_spectral_subtraction_of_the_model_on_real_magnitudes(tmp_path):
    """The extracted operator over 4 streams of 50 frames of preprocessor-like energies."""
    graph = read_tflite(MODELS / "audio_preprocessor_int8.tflite")
    i = next(k for k, op in enumerate(graph.main.operators)
             if op.opcode == "SignalFilterBankSpectralSubtraction")
    rng = np.random.default_rng(11)
    x = np.concatenate([energies(rng, 40, False) for _ in range(2)])[:4, :50]
    check_sequences(extract_operator(graph, i), tmp_path, [x])


@pytest.mark.parametrize("changes", [{}, {"clamping": True}, {"num_channels": 7},
                                     {"smoothing": -5, "one_minus_smoothing": 1 << 30},
                                     {"smoothing_bits": 0, "spectral_subtraction_bits": 40}],
                         ids=["preprocessor", "clamping", "7ch", "wrapping", "shifts"])
@BOTH_BUILDS
def test_spectral_subtraction_options(changes, flags, tmp_path):
    """Four channels a step in SSE2 (7 channels: a scalar tail; wrapping uint64 sums, shifts
    0 and 40), and the portable loop."""
    opts = dict(NOISE_PREPROCESSOR, **changes)
    n = opts["num_channels"]
    graph = graph_of(custom_model("SignalFilterBankSpectralSubtraction", [((n,), np.uint32)],
                                  [((n,), np.uint32), ((n,), np.uint32)], **opts))
    rng = np.random.default_rng(len(str(changes)))
    real = energies(rng, n, False)  # (3, 200, n)
    full = energies(rng, n, True)
    check_sequences(graph, tmp_path / "a", [np.concatenate([real, full])], flags=flags)
    check(graph, tmp_path / "b", n=N, flags=flags)


@BOTH_BUILDS
def test_window(flags, tmp_path):
    """SSE2 (8 values a step) and portable: rows whose length is not a multiple of 8 too."""
    rng = np.random.default_rng(1)
    builders = []
    for shift, shape, wlen in [(12, (480,), 480), (0, (3, 64), 64), (8, (2, 40), 40),
                               (15, (96,), 32), (31, (2, 37), 37), (3, (5,), 5)]:
        w = uniform(rng, (wlen,), np.int16)
        builders.append(as_builder(graph_of(custom_model(
            "SignalWindow", [(shape, np.int16), w], [(shape, np.int16)], shift=shift))))
    check(merge(builders).build(), tmp_path, n=N, flags=flags)


def _max_abs_edge_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Frames for TFLM's sequential MaxAbs16 around -32768: after its last occurrence the
    maximum follows rising negative values (a windowed -32768 frame gives long such runs), then
    ends on a value >= 0, on one not above the previous, or at the frame end."""
    x = (rng.integers(-300, 300, size=(60, n))).astype(np.int16)
    for k in range(60):
        q = int(rng.integers(0, n))
        run = int(rng.integers(0, n - q))
        x[k, q] = -32768
        x[k, q + 1:q + 1 + run] = np.sort(rng.integers(-32767, 0, size=run))
        end = q + 1 + run
        if end < n:
            x[k, end] = [0, 5, x[k, end - 1], -32767, 32767][k % 5]
        if k % 3 == 0 and q > 0:
            x[k, :q][rng.random(q) < 0.3] = -32768  # earlier occurrences do not matter
    x[0, -1] = -32768
    x[1, 0] = -32768
    x[1, 1:] = np.arange(1, n) - n  # rising to -1 at the end
    x[2, :] = -32768
    return x


@BOTH_BUILDS
def test_fft_auto_scale(flags, tmp_path):
    rng = np.random.default_rng(2)
    builders, inputs = [], []
    for n in (480, 64, 7, 37, 24, 45):
        builders.append(as_builder(graph_of(custom_model(
            "SignalFftAutoScale", [((n,), np.int16)], [((n,), np.int16), ((), np.int32)]))))
        inputs.append(np.concatenate([auto_scale_inputs(rng, n), _max_abs_edge_inputs(rng, n)]))
    check_inputs(merge(builders).build(), tmp_path, inputs, flags=flags)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32], ids=["s16", "s32", "f32"])
def test_rfft(dtype, tmp_path):
    """KISS FFT's three builds: radix 4, 2, 3 and 5 stages, rows shorter than the FFT (zero
    padding), several rows; quiet and loud inputs."""
    rng = np.random.default_rng(3)
    builders, inputs = [], []
    for length, in_len, rows in RFFT_CASES:
        shape = (rows, in_len) if rows > 1 else (in_len,)
        out_shape = (rows, length + 2) if rows > 1 else (length + 2,)
        builders.append(as_builder(graph_of(custom_model(
            "SignalRfft", [(shape, dtype)], [(out_shape, dtype)], T=T_CODE[dtype],
            fft_length=length))))
        inputs.append(rfft_inputs(rng, dtype, shape))
    graph = merge(builders).build()
    check_inputs(graph, tmp_path / "a", inputs)
    check(graph, tmp_path / "b", n=N)


@BOTH_BUILDS
def test_rfft_s16_radix4(flags, tmp_path):
    """Transforms of 4^n >= 256 complex points (the SSE2 path on x86-64, and the portable C with
    MF_NO_SIMD): odd and padded rows, several rows, 5 stages; random magnitudes, extreme and
    wrapping rows (rfft_s16_cases)."""
    graph, inputs = rfft_s16_cases(SIMD_RFFT_CASES, seed=13)
    check_inputs(graph, tmp_path, inputs, flags=flags)


@BOTH_BUILDS
def test_energy(flags, tmp_path):
    builders = [as_builder(graph_of(custom_model(
        "SignalEnergy", [((2 * n,), np.int16)], [((n,), np.uint32)], end_index=end,
        start_index=start))) for start, end, n in [(4, 241, 257), (0, 8, 8), (3, 3, 5), (0, 1, 4),
                                                   (5, 240, 257), (2, 9, 11)]]
    graph = merge(builders).build()
    check(graph, tmp_path / "a", n=N, flags=flags)
    extremes = [np.full((2, 2 * n), v, np.int16) for v, n in zip((-32768, 32767, -1, 0, -32768, 1),
                                                                 (257, 8, 5, 4, 257, 11))]
    check_inputs(graph, tmp_path / "b", [np.concatenate([e, -e]) for e in extremes], flags=flags)


def _block_tables(rng: np.random.Generator, n_in: int, channels: int, top: int) -> list:
    """Filter bank tables laid out as TFLM's generator pads them (the SSE2 loop's layout):
    widths multiples of 4 inside the input, weights band after band, in [0, top]."""
    widths = (4 * rng.integers(0, 5, size=channels + 1)).astype(np.int16)
    widths = np.minimum(widths, (n_in // 4) * 4).astype(np.int16)
    starts = rng.integers(0, n_in - widths + 1).astype(np.int16)
    weight_starts = np.concatenate([[0], np.cumsum(widths[:-1])]).astype(np.int16)
    total = max(int(widths.sum()), 1)
    weights = rng.integers(0, top + 1, size=total).astype(np.int16)
    unweights = rng.integers(0, top + 1, size=total).astype(np.int16)
    weights[:4] = top
    return [weights, unweights, starts, weight_starts, widths]


@BOTH_BUILDS
def test_filter_bank(flags, tmp_path):
    """Tables of blocks of 4 bins (the SSE2 path: unsigned 32 x 32-bit products) with weights
    up to 4096 and up to 32767 against inputs up to 2^32 - 1; tables the SSE2 loop does not
    take (widths 0..8, negative weights): the portable loop."""
    rng = np.random.default_rng(4)
    builders, inputs = [], []
    for kind in ("mel", "signed", "blocks", "wide"):
        for n_in, channels in [(257, 40), (64, 8), (16, 1)]:
            if kind in ("blocks", "wide"):
                tables = _block_tables(rng, n_in, channels, 4096 if kind == "blocks" else 32767)
            else:
                tables = bank_tables(rng, n_in, channels, kind == "signed")
            builders.append(as_builder(graph_of(custom_model(
                "SignalFilterBank", [((n_in,), np.uint32)] + tables, [((channels,), np.uint64)],
                num_channels=channels))))
            x = uniform(rng, (N, n_in), np.uint32)
            x[3:100] >>= rng.integers(0, 32, size=(97, 1)).astype(np.uint32)
            x[100] = 0xFFFFFFFF
            inputs.append(x)
    # a negative width (a skipped band) whose running start still matches: not for the SSE2 loop
    tables = [np.full(12, 100, np.int16), np.full(12, 7, np.int16),
              np.array([0, 3, 8], np.int16), np.array([0, 4, 0], np.int16),
              np.array([4, -4, 8], np.int16)]
    builders.append(as_builder(graph_of(custom_model(
        "SignalFilterBank", [((16,), np.uint32)] + tables, [((2,), np.uint64)], num_channels=2))))
    inputs.append(uniform(rng, (N, 16), np.uint32))
    graph = merge(builders).build()
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert compiled.source.source.count(".blocks = 1") == 6
    check_inputs(graph, tmp_path / "verify", inputs, flags=flags)


def _sqrt_edges() -> np.ndarray:
    """Around perfect squares r^2 and the rounding points r^2 + r for roots near 2^16 (the
    Sqrt32 cap), below 2^26 (the SSE2 pairs of values < 2^52 in doubles), 2^26.5 (where a
    double's root may round), 2^32 (the Sqrt64 cap) and small ones; around 2^52, 2^53, 2^63 and
    2^64."""
    roots = [1, 2, 3, 0xFFFE, 0xFFFF, 0x10000, 0x10001, 46340, 46341, 12345678, (1 << 25) + 1,
             (1 << 26) - 3, (1 << 26) - 2, 94906265, 94906266, (1 << 26) - 1, 1 << 26, 0x7FFFFFFF,
             0xB504F333, 0xFFFFFFFE, 0xFFFFFFFF]
    values = []
    for r in roots:
        values += [r * r + d for d in (-1, 0, 1, r - 1, r, r + 1, 2 * r)]
    for p in (32, 52, 53, 63):
        values += [(1 << p) + d for d in (-2, -1, 0, 1, 2)]
    values += [(1 << 64) - d for d in (1, 2, (1 << 32) - 1, 1 << 32, (1 << 33) - 1)]
    values = [v for v in values if 0 <= v < 1 << 64]
    values += [0] * (-len(values) % 40)
    return np.array(values, np.uint64).reshape(-1, 40)


@BOTH_BUILDS
def test_filter_bank_square_root(flags, tmp_path):
    rng = np.random.default_rng(5)
    graph = graph_of(custom_model("SignalFilterBankSquareRoot", [((40,), np.uint64), ((), np.int32)],
                                  [((40,), np.uint32)]))
    x = np.concatenate([sqrt_inputs(rng, 40), _sqrt_edges()])
    shift = rng.integers(0, 32, size=len(x)).astype(np.int32)
    shift[100:160] = 0
    shift[N:] = 0
    shift[160:166] = [32, 33, -1, 63, 100, -31]  # masked to 5 bits like x86-64
    check_inputs(graph, tmp_path, [x, shift], flags=flags)


def test_pcan(tmp_path):
    """Noise estimates 0..4, around powers of two and 2^24, the largest; snr around the shrink's
    8192."""
    rng = np.random.default_rng(6)
    builders, inputs = [], []
    for shift in (0, 6, 8):
        for preprocessor_lut in (True, False):
            lut = gain_lut(rng, preprocessor_lut)
            builders.append(as_builder(graph_of(custom_model(
                "SignalPCAN", [((40,), np.uint32), ((40,), np.uint32), lut], [((40,), np.uint32)],
                snr_shift=shift))))
            x = uniform(rng, (N, 40), np.uint32)
            noise = uniform(rng, (N, 40), np.uint32)
            x[100:] >>= rng.integers(8, 32, size=(100, 1)).astype(np.uint32)
            noise[100:] >>= rng.integers(0, 32, size=(100, 40)).astype(np.uint32)
            noise[0, :8] = [0, 1, 2, 3, 4, 1023, 1024, 2047]
            powers = (np.uint64(1) << np.arange(32, dtype=np.uint64))
            noise[1, :32] = powers
            noise[2, :32] = powers - np.uint64(1)
            noise[3, :32] = powers + powers // np.uint64(3)
            noise[4] = (1 << 24) + np.arange(-20, 20)
            noise[5] = 0xFFFFFFFF - np.arange(40)
            x[6] = (8192 << shift) + np.arange(-20, 20)
            inputs += [x, noise]
    check_inputs(merge(builders).build(), tmp_path, inputs)


@BOTH_BUILDS
def test_filter_bank_log(flags, tmp_path):
    """SSE2 (four channels a step: exponent and fraction from a float of the value) and
    portable: every segment, values around 2^24 and 2^31, the saturation at 32767."""
    rng = np.random.default_rng(7)
    builders, inputs = [], []
    i = np.arange(28 * 40).reshape(28, 40)
    segments = ((1 << 20) + ((i % 128) * 512 + (i * 37) % 512) * 16).astype(np.uint32)
    for bits, scale in [(3, 64), (0, 1), (8, 1000), (0, 70000), (5, -3)]:
        builders.append(as_builder(graph_of(custom_model(
            "SignalFilterBankLog", [((40,), np.uint32)], [((40,), np.int16)],
            input_correction_bits=bits, output_scale=scale))))
        x = uniform(rng, (N, 40), np.uint32)
        x[:100] >>= rng.integers(0, 32, size=(100, 1)).astype(np.uint32)
        x[100, :8] = [0, 1, 2, 3, 4, 1 << 31, (1 << 32) - 1, 1 << 16]
        x[101:129] = segments  # every segment of the 128-entry table
        x[129:131] = (1 << 24) + np.arange(-40, 40).reshape(2, 40)
        x[131:133] = (np.arange(80).reshape(2, 40) << 24) | 0xFFFFFF
        x[133] = 0x7FFFFFFF - np.arange(40)
        inputs.append(x)
    check_inputs(merge(builders).build(), tmp_path, inputs, flags=flags)


def test_sanitized(tmp_path):
    """Every kernel under -fsanitize=address,undefined with extreme inputs."""
    rng = np.random.default_rng(8)
    tables = bank_tables(rng, 64, 8, True)
    specs = [
        ("SignalWindow", [((64,), np.int16), uniform(rng, (64,), np.int16)], [((64,), np.int16)],
         {"shift": 15}),
        ("SignalFftAutoScale", [((48,), np.int16)], [((48,), np.int16), ((), np.int32)], {}),
        ("SignalEnergy", [((40,), np.int16)], [((20,), np.uint32)],
         {"end_index": 20, "start_index": 0}),
        ("SignalFilterBank", [((64,), np.uint32)] + tables, [((8,), np.uint64)],
         {"num_channels": 8}),
        ("SignalFilterBankSquareRoot", [((8,), np.uint64), ((), np.int32)], [((8,), np.uint32)], {}),
        ("SignalPCAN", [((8,), np.uint32), ((8,), np.uint32), uniform(rng, (125,), np.int16)],
         [((8,), np.uint32)], {"snr_shift": 0}),
        ("SignalFilterBankLog", [((8,), np.uint32)], [((8,), np.int16)],
         {"input_correction_bits": 8, "output_scale": -3}),
    ]
    builders = [as_builder(graph_of(custom_model(code, ins, outs, **opts)))
                for code, ins, outs, opts in specs]
    for length, dtype in [(512, np.int16), (48, np.int16), (40, np.int32), (60, np.int32),
                            (40, np.float32), (48, np.float32)]:
        builders.append(as_builder(graph_of(custom_model(
            "SignalRfft", [((length,), dtype)], [((length + 2,), dtype)], T=T_CODE[dtype],
            fft_length=length))))
    check(merge(builders).build(), tmp_path / "a", n=40, sanitize=True)
    graph = graph_of(custom_model("SignalFilterBankSpectralSubtraction", [((40,), np.uint32)],
                                  [((40,), np.uint32), ((40,), np.uint32)],
                                  **dict(NOISE_PREPROCESSOR, spectral_subtraction_bits=40)))
    check(graph, tmp_path / "b", n=40, sanitize=True)


def test_reset_restores_the_noise_estimate(tmp_path):
    """NAME_reset zeroes the spectral subtraction's state buffer."""
    graph = read_tflite(MODELS / "audio_preprocessor_int8.tflite")
    compiled = compile_model(graph, tmp_path, name="pre")
    text = compiled.source.source
    assert "_noise[40];" in text
    reset = text[text.index("void pre_reset(void) {"):]
    assert "_noise[i] = 0;" in reset[: reset.index("}\n")]
