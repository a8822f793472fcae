"""Oracle tests of SignalFftAutoScale, SignalRfft and SignalIrfft against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.runtime.kernels.signal_kissfft import factorize, supported_length
from tests.builders.signal import T_CODE, auto_scale_inputs, custom_model, rfft_inputs
from tests.runtime._parity import assert_parity

N = 200


@pytest.mark.parametrize("n", [480, 64, 7])
def test_fft_auto_scale(n):
    rng = np.random.default_rng(n)
    data = custom_model("SignalFftAutoScale", [((n,), np.int16)],
                        [((n,), np.int16), ((), np.int32)])
    x = auto_scale_inputs(rng, n)
    scale = assert_parity(microforge.load(data).graph, [x])[1]
    assert len(set(scale.tolist())) > 10


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32])
@pytest.mark.parametrize("length,in_len,rows", [(512, 480, 1), (64, 64, 2), (48, 40, 1),
                                                (40, 40, 1), (60, 33, 3), (16, 16, 1)])
def test_rfft(dtype, length, in_len, rows):
    rng = np.random.default_rng(length * 7 + in_len)
    shape = (rows, in_len) if rows > 1 else (in_len,)
    out_shape = (rows, length + 2) if rows > 1 else (length + 2,)
    data = custom_model("SignalRfft", [(shape, dtype)], [(out_shape, dtype)],
                        T=T_CODE[dtype], fft_length=length)
    assert_parity(microforge.load(data).graph, [rfft_inputs(rng, dtype, shape)])


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32])
@pytest.mark.parametrize("length,rows", [(512, 1), (64, 2), (48, 1), (40, 1), (60, 1)])
def test_irfft(dtype, length, rows):
    rng = np.random.default_rng(length + rows)
    shape = (rows, length + 2) if rows > 1 else (length + 2,)
    out_shape = (rows, length) if rows > 1 else (length,)
    data = custom_model("SignalIrfft", [(shape, dtype)], [(out_shape, dtype)],
                        T=T_CODE[dtype], fft_length=length)
    assert_parity(microforge.load(data).graph, [rfft_inputs(rng, dtype, shape)])


def test_kf_factor():
    assert factorize(256) == [(4, 64), (4, 16), (4, 4), (4, 1)]
    assert factorize(24) == [(4, 6), (2, 3), (3, 1)]
    assert factorize(20) == [(4, 5), (5, 1)]
    assert supported_length(512) is None
    assert "radix 7" in supported_length(28)
    assert "even" in supported_length(15)


@pytest.mark.parametrize("length", [28, 15, 2])
def test_rfft_lengths_tflm_cannot_run_are_refused(length):
    data = custom_model("SignalRfft", [((length,), np.int16)], [((length + 2,), np.int16)],
                        T=7, fft_length=length)
    with pytest.raises(UnsupportedOpError, match="fft_length"):
        microforge.load(data)


def test_rfft_unsupported_type_and_bad_options():
    data = custom_model("SignalRfft", [((16,), np.int8)], [((18,), np.int8)], T=9, fft_length=16)
    with pytest.raises(UnsupportedOpError, match="T=9"):
        microforge.load(data)
    data = custom_model("SignalRfft", [((16,), np.int16)], [((18,), np.int16)], T=7)
    with pytest.raises(UnsupportedOpError, match="fft_length"):
        microforge.load(data)
