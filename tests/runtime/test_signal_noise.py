"""Oracle tests of SignalFilterBankSpectralSubtraction (stateful) and SignalPCAN against
tflite-micro: 200-frame streams, several streams batched in microforge, resets mid-stream."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from tests.builders.arrays import uniform
from tests.builders.signal import NOISE_PREPROCESSOR, custom_model, energies, gain_lut
from tests.runtime._parity import assert_parity
from tests.runtime._signal import assert_stream_parity


def _subtraction(**changes) -> bytes:
    opts = dict(NOISE_PREPROCESSOR, **changes)
    n = opts["num_channels"]
    return custom_model("SignalFilterBankSpectralSubtraction", [((n,), np.uint32)],
                        [((n,), np.uint32), ((n,), np.uint32)], **opts)


@pytest.mark.parametrize("full_range", [False, True])
@pytest.mark.parametrize("changes", [{}, {"clamping": True}, {"num_channels": 7},
                                     {"smoothing": -5, "one_minus_smoothing": 1 << 30},
                                     {"smoothing_bits": 0, "spectral_subtraction_bits": 40}])
def test_spectral_subtraction_streams(full_range, changes):
    rng = np.random.default_rng(len(str(changes)) + full_range)
    n = changes.get("num_channels", 40)
    assert_stream_parity(_subtraction(**changes), [energies(rng, n, full_range)])


def test_spectral_subtraction_reset_mid_stream():
    rng = np.random.default_rng(5)
    out = assert_stream_parity(_subtraction(), [energies(rng, 40, False)], reset_at=120)
    assert out[1][:, 119].any() and out[1].dtype == np.uint32


def test_spectral_subtraction_state_is_per_row_and_reset_clears_it():
    rng = np.random.default_rng(6)
    model = microforge.load(_subtraction())
    assert model.stateful
    x = energies(rng, 40, False)
    first = [model.run(x[:, t])[1] for t in range(5)]
    model.reset()
    again = [model.run(x[:, t])[1] for t in range(5)]
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    model.reset()
    single = [model.run(x[1:2, t])[1] for t in range(5)]
    np.testing.assert_array_equal(np.stack(single)[:, 0], np.stack(first)[:, 1])


def test_spectral_subtraction_missing_option_refused():
    opts = dict(NOISE_PREPROCESSOR)
    del opts["smoothing"]
    data = custom_model("SignalFilterBankSpectralSubtraction", [((40,), np.uint32)],
                        [((40,), np.uint32), ((40,), np.uint32)], **opts)
    with pytest.raises(UnsupportedOpError, match="custom options"):
        microforge.load(data)


@pytest.mark.parametrize("shift", [0, 6, 8])
@pytest.mark.parametrize("preprocessor_lut", [True, False])
@pytest.mark.parametrize("full_range", [True, False])
def test_pcan(shift, preprocessor_lut, full_range):
    rng = np.random.default_rng(shift * 4 + preprocessor_lut * 2 + full_range)
    lut = gain_lut(rng, preprocessor_lut)
    data = custom_model("SignalPCAN", [((40,), np.uint32), ((40,), np.uint32), lut],
                        [((40,), np.uint32)], snr_shift=shift)
    x = uniform(rng, (200, 40), np.uint32)
    noise = uniform(rng, (200, 40), np.uint32)
    if not full_range:
        x >>= rng.integers(8, 32, size=(200, 1)).astype(np.uint32)
        noise >>= rng.integers(0, 32, size=(200, 40)).astype(np.uint32)
    noise[0, :8] = [0, 1, 2, 3, 4, 1023, 1024, 2047]
    assert_parity(microforge.load(data).graph, [x, noise])


def test_pcan_short_table_refused():
    data = custom_model("SignalPCAN", [((4,), np.uint32), ((4,), np.uint32),
                                       np.zeros(40, np.int16)], [((4,), np.uint32)], snr_shift=6)
    with pytest.raises(UnsupportedOpError, match="125"):
        microforge.load(data)
