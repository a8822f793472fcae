"""Oracle tests of SignalWindow, SignalEnergy, SignalFilterBank, SignalFilterBankSquareRoot and
SignalFilterBankLog against tflite-micro (stateless operators: 200 random samples per case)."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.runtime.kernels.signal_filter_bank import sqrt64
from tests.builders.arrays import uniform
from tests.builders.signal import bank_tables, custom_model, sqrt_inputs
from tests.oracle import tflm_run
from tests.runtime._parity import assert_parity

N = 200


@pytest.mark.parametrize("shift", [0, 8, 12, 15])
@pytest.mark.parametrize("shape,wlen", [((1, 480), 480), ((3, 16), 16), ((32,), 8)])
def test_window(shift, shape, wlen):
    rng = np.random.default_rng(shift + wlen)
    window = uniform(rng, (wlen,), np.int16)
    window[0], window[-1] = -32768, 32767
    data = custom_model("SignalWindow", [(shape, np.int16), window], [(shape, np.int16)],
                        shift=shift)
    x = uniform(rng, (N,) + shape, np.int16)
    x[0], x[1] = -32768, 32767
    assert_parity(microforge.load(data).graph, [x])


def test_window_length_must_divide_the_input():
    data = custom_model("SignalWindow", [((10,), np.int16), np.ones(4, np.int16)],
                        [((10,), np.int16)], shift=0)
    with pytest.raises(UnsupportedOpError, match="multiple"):
        microforge.load(data)


@pytest.mark.parametrize("start,end,n", [(5, 241, 257), (0, 257, 257), (3, 3, 8), (0, 9, 9)])
def test_energy(start, end, n):
    rng = np.random.default_rng(n + start)
    data = custom_model("SignalEnergy", [((2 * n,), np.int16)], [((n,), np.uint32)],
                        end_index=end, start_index=start)
    x = uniform(rng, (N, 2 * n), np.int16)
    x[0], x[1] = -32768, 32767  # -32768**2 * 2 overflows int32
    ours = microforge.load(data).run(x)[0]
    ref = tflm_run(data, [[s] for s in x])[0]
    assert ours.dtype == ref.dtype == np.uint32
    np.testing.assert_array_equal(ours[:, start:end], ref[:, start:end])
    assert (ours[:, :start] == 0).all() and (ours[:, end:] == 0).all()


@pytest.mark.parametrize("full_range", [False, True])
@pytest.mark.parametrize("n_in,channels", [(257, 40), (64, 8), (16, 1)])
def test_filter_bank(full_range, n_in, channels):
    rng = np.random.default_rng(n_in + channels + full_range)
    tables = bank_tables(rng, n_in, channels, full_range)
    data = custom_model("SignalFilterBank", [((n_in,), np.uint32)] + tables,
                        [((channels,), np.uint64)], num_channels=channels)
    x = uniform(rng, (N, n_in), np.uint32)
    x[3:100] >>= rng.integers(0, 32, size=(97, 1)).astype(np.uint32)
    assert_parity(microforge.load(data).graph, [x])


def test_filter_bank_tables_out_of_range_refused():
    tables = [np.ones(4, np.int16), np.ones(4, np.int16), np.array([0, 10], np.int16),
              np.array([0, 0], np.int16), np.array([2, 4], np.int16)]
    data = custom_model("SignalFilterBank", [((12,), np.uint32)] + tables,
                        [((1,), np.uint64)], num_channels=1)
    with pytest.raises(UnsupportedOpError, match="past the input"):
        microforge.load(data)


@pytest.mark.parametrize("n", [40, 12])
def test_filter_bank_square_root(n):
    rng = np.random.default_rng(n)
    data = custom_model("SignalFilterBankSquareRoot", [((n,), np.uint64), ((), np.int32)],
                        [((n,), np.uint32)])
    x = sqrt_inputs(rng, n)
    shift = rng.integers(0, 32, size=N).astype(np.int32)
    shift[100:160] = 0
    shift[160:166] = [32, 33, -1, 63, 100, -31]  # undefined in C; x86 masks to 5 bits
    assert_parity(microforge.load(data).graph, [x, shift])


def test_sqrt64_is_round_to_nearest_with_caps():
    import math

    values = [0, 1, 2, 3, 4, 5, 6, 8, 0xFFFE0001, 0xFFFF0000, 0xFFFFFFFF, 1 << 32,
              0xFFFFFFFE00000001, 0xFFFFFFFF00000000, (1 << 64) - 1]
    got = sqrt64(np.array(values, np.uint64)).tolist()
    for v, g in zip(values, got):
        r = math.isqrt(v)
        cap = 0xFFFF if v < (1 << 32) else 0xFFFFFFFF
        assert g == (r + 1 if v - r * r > r and r != cap else r), v


@pytest.mark.parametrize("bits,scale", [(3, 64), (0, 1), (8, 1000), (0, 70000), (5, -3)])
def test_filter_bank_log(bits, scale):
    rng = np.random.default_rng(bits * 100 + abs(scale))
    data = custom_model("SignalFilterBankLog", [((40,), np.uint32)], [((40,), np.int16)],
                        input_correction_bits=bits, output_scale=scale)
    x = uniform(rng, (N, 40), np.uint32)
    x[:100] >>= rng.integers(0, 32, size=(100, 1)).astype(np.uint32)
    x[100, :8] = [0, 1, 2, 3, 4, 1 << 31, (1 << 32) - 1, 1 << 16]
    # every segment of the 128-entry table: fractions spread over [0, 1)
    i = np.arange(28 * 40).reshape(28, 40)
    x[101:129] = ((1 << 20) + ((i % 128) * 512 + (i * 37) % 512) * 16).astype(np.uint32)
    assert_parity(microforge.load(data).graph, [x])


@pytest.mark.parametrize("top", [1 << 32, 1 << 52, 1 << 64])
def test_sqrt64_against_isqrt(top):
    """Both paths of sqrt64 (float root exact below 2**52, corrected above) near squares."""
    import math

    rng = np.random.default_rng(top % 1000)
    roots = rng.integers(0, math.isqrt(top - 1), size=3000, dtype=np.uint64, endpoint=True)
    x = roots * roots + rng.integers(-2, 3, size=3000).astype(np.uint64) * (roots > 2)
    x = np.concatenate([x, rng.integers(0, top - 1, size=3000, dtype=np.uint64, endpoint=True)])
    got = sqrt64(x).tolist()
    for v, g in zip(x.tolist(), got):
        r = math.isqrt(v)
        cap = 0xFFFF if v < (1 << 32) else 0xFFFFFFFF
        assert g == (r + 1 if v - r * r > r and r != cap else r), v


def test_filter_bank_wide_bands_take_the_split_path():
    """Bands whose weight sums reach 2**21 make whole-uint32 products inexact in float64: the
    kernel splits the input in 16-bit halves (still bit-exact)."""
    rng = np.random.default_rng(9)
    widths = np.array([0, 120, 120], np.int16)
    tables = [uniform(rng, (240,), np.int16), uniform(rng, (240,), np.int16),
              np.array([0, 0, 130], np.int16), np.array([0, 0, 120], np.int16), widths]
    tables[0][:] = np.abs(tables[0]) | 0x4000
    data = custom_model("SignalFilterBank", [((257,), np.uint32)] + tables,
                        [((2,), np.uint64)], num_channels=2)
    model = microforge.load(data)
    assert model._executor.steps[0].params.split
    x = uniform(rng, (N, 257), np.uint32)
    assert_parity(model.graph, [x])
