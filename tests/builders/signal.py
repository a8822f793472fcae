"""Models and inputs of the signal-library (custom operator) tests: one-custom-op models with
FlexBuffers options, RFFT / FFT auto-scale / filter bank / square root / noise reduction inputs,
and the merged int16 RFFT cases the host and Cortex-M C tests share."""

from __future__ import annotations

import numpy as np
from flatbuffers import flexbuffers

from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder
from tests.builders.arrays import N, uniform
from tests.builders.c import as_builder, merge

Spec = tuple[tuple[int, ...], type]


def custom_model(code: str, inputs: list[Spec | np.ndarray], outputs: list[Spec],
                 **options) -> bytes:
    """A model of one custom operator: ``inputs`` are (shape, dtype) graph inputs or constant
    arrays, ``outputs`` (shape, dtype); ``options`` become the FlexBuffers map."""
    b = GraphBuilder()
    ins = []
    for k, spec in enumerate(inputs):
        if isinstance(spec, np.ndarray):
            ins.append(b.const(f"c{k}", spec))
        else:
            ins.append(b.input(f"x{k}", spec[0], spec[1]))
    outs = [b.tensor(f"y{k}", shape, dtype) for k, (shape, dtype) in enumerate(outputs)]
    b.custom_op(code, ins, outs, bytes(flexbuffers.Dumps(options)) if options else b"")
    b.output(*outs)
    return write_tflite(b.build())


T_CODE = {np.int16: 7, np.int32: 2, np.float32: 0}


def auto_scale_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    x = uniform(rng, (N, n), np.int16)
    amp = 1 << rng.integers(0, 16, size=(N, 1))  # every scale from 0 to 15 bits
    x = (x.astype(np.int32) % amp).astype(np.int16) * rng.choice([-1, 1], size=(N, n)).astype(
        np.int16)
    x[0] = 0
    x[1] = -32768
    x[2] = 32767
    x[3, ::7] = -32768  # -32768 amid other values: TFLM's int16 maximum turns negative
    x[4, -1] = -32768
    x[5] = rng.integers(-3, 4, size=n)
    return x


def rfft_inputs(rng, dtype, shape):
    if dtype == np.float32:
        x = rng.uniform(-1, 1, size=(N,) + shape).astype(np.float32)
        x[1] *= np.float32(3e4)
        x[2] = 0
        return x
    x = uniform(rng, (N,) + shape, dtype)
    # random magnitudes so the fixed-point scaling sees quiet and loud signals
    bits = np.iinfo(dtype).bits
    shift = rng.integers(0, bits - 1, size=(N,) + (1,) * len(shape))
    return (x >> shift.astype(x.dtype)).astype(dtype)


def bank_tables(rng, n_in: int, channels: int, full_range: bool):
    starts = np.sort(rng.integers(0, n_in - 8, size=channels + 1)).astype(np.int16)
    widths = rng.integers(0, 9, size=channels + 1).astype(np.int16)
    widths[0] = 0 if channels % 2 else widths[0]
    weight_starts = np.concatenate([[0], np.cumsum(widths[:-1])]).astype(np.int16)
    total = int(widths.sum())
    if full_range:
        weights = uniform(rng, (max(total, 1),), np.int16)
        unweights = uniform(rng, (max(total, 1),), np.int16)
    else:
        weights = rng.integers(0, 4097, size=max(total, 1)).astype(np.int16)
        unweights = (4096 - weights).astype(np.int16)
    return [weights, unweights, starts, weight_starts, widths]


def sqrt_inputs(rng, n: int) -> np.ndarray:
    x = uniform(rng, (N, n), np.uint64)
    x[:60] >>= rng.integers(0, 64, size=(60, 1)).astype(np.uint64)
    roots = rng.integers(0, 1 << 32, size=(40, n), dtype=np.uint64)
    x[60:100] = roots * roots + rng.integers(-1, 2, size=(40, n)).astype(np.uint64) * (roots > 0)
    x[100:120] = (roots[:20] * roots[:20] + roots[:20])  # remainder == root: no rounding up
    special = np.array([0, 1, 2, 3, (1 << 32) - 1, 1 << 32, (1 << 32) + 1,
                        0xFFFE0001, 0xFFFF0000, 0xFFFFFFFE00000001, 0xFFFFFFFF00000000,
                        (1 << 64) - 1], np.uint64)
    x[120, : special.size] = special[:n]
    return x


NOISE_PREPROCESSOR = dict(alternate_one_minus_smoothing=15401, alternate_smoothing=983, clamping=False,
                    min_signal_remaining=819, num_channels=40, one_minus_smoothing=15975,
                    smoothing=409, smoothing_bits=10, spectral_subtraction_bits=14)


def energies(rng, n: int, full_range: bool) -> np.ndarray:
    if full_range:
        return uniform(rng, (ROWS, STEPS, n), np.uint32)
    # a slowly varying noise floor with bursts, magnitudes as in the preprocessor (< 2**16)
    floor = rng.integers(50, 2000, size=(ROWS, 1, n))
    burst = (rng.random((ROWS, STEPS, 1)) < 0.2) * rng.integers(0, 60000, size=(ROWS, STEPS, n))
    return (floor + rng.integers(0, 200, size=(ROWS, STEPS, n)) + burst).astype(np.uint32)


def gain_lut(rng, preprocessor_like: bool) -> np.ndarray:
    if preprocessor_like:
        from microforge.frontends.tflite.reader import read_tflite
        from tests.oracle import MODELS

        sg = read_tflite(MODELS / "audio_preprocessor_int8.tflite").main
        op = next(o for o in sg.operators if o.opcode == "SignalPCAN")
        return np.array(sg.tensors[op.inputs[2]].data)
    return uniform(rng, (125,), np.int16)


def graph_of(data: bytes) -> Graph:
    return read_tflite(data)


RFFT_CASES = [(512, 480, 1), (64, 64, 2), (48, 40, 1), (40, 40, 1), (60, 33, 3), (16, 16, 1),
              (20, 20, 1), (24, 21, 2)]


SIMD_RFFT_CASES = [(512, 480, 1), (512, 512, 2), (512, 479, 1), (2048, 2001, 1)]


def rfft_s16_cases(cases: list[tuple[int, int, int]], seed: int) -> tuple[Graph, list[np.ndarray]]:
    """int16 SignalRfft models of (fft_length, in_len, rows) merged into one graph, with random
    inputs of every magnitude and in each case rows of constant -32768, 32767, -1 and 1,
    alternating extremes, zeros, impulses at either end, and square-wave phasors whose
    transforms wrap (also used by the Cortex-M DSP test)."""
    rng = np.random.default_rng(seed)
    builders, inputs = [], []
    for length, in_len, rows in cases:
        shape = (rows, in_len) if rows > 1 else (in_len,)
        out_shape = (rows, length + 2) if rows > 1 else (length + 2,)
        builders.append(as_builder(graph_of(custom_model(
            "SignalRfft", [(shape, np.int16)], [(out_shape, np.int16)], T=T_CODE[np.int16],
            fft_length=length))))
        x = rfft_inputs(rng, np.int16, shape)
        flat = x.reshape(x.shape[0], -1)
        for i, v in enumerate((-32768, 32767, -1, 1)):
            flat[i] = v
        flat[4] = np.where(np.arange(flat.shape[1]) % 2, -32768, 32767)
        flat[5] = 0
        flat[5, 0] = -32768
        flat[6] = 0
        flat[6, -1] = 32767
        flat[7:23] = square_phasors(flat.shape[1], length // 2)
        flat[23:71] = [square_phasor(flat.shape[1], length // 2, length // 2 - 1, np.pi / 2, a)
                       for a in range(25726, 25774)]
        inputs.append(x)
    return merge(builders).build(), inputs


def square_phasor(width: int, n: int, f: int, phi: float, amp: int) -> np.ndarray:
    """A square-wave phasor of ``width`` samples: sample 2 j the sign of cos(2 pi f j / n + phi)
    and sample 2 j + 1 that of its sine, times ``amp`` (-32768 for -32767 - 1)."""
    theta = 2 * np.pi * f * np.arange(n) / n + phi + 1e-9
    pair = np.stack([np.cos(theta), np.sin(theta)], axis=1).reshape(-1)
    return np.resize(np.where(pair >= 0, amp, -amp - (amp == 32767)), width).astype(np.int16)


def square_phasors(width: int, n: int) -> np.ndarray:
    """Full-scale square-wave phasors, whose fundamental has 4 / pi times full scale: the complex
    transform's bin f overflows int16 and wraps, in each quarter of the bins (every output leg
    of the last radix-4 butterflies), its real or imaginary part pushed up or down."""
    return np.array([square_phasor(width, n, f, phi, 32767)
                     for f in (1, n // 4 + 1, n // 2 + 1, 3 * n // 4 + 1)
                     for phi in np.arange(4) * np.pi / 2])


ROWS, STEPS = 3, 200
