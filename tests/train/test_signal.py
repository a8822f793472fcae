"""Resampling and generated noises in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.train.signal import NOISES, add_noise, noise, resample, rms, to_int16


def test_resample_keeps_a_tone_and_its_frequency():
    t = np.arange(22050) / 22050
    x = np.sin(2 * np.pi * 440 * t)
    y = resample(x, 22050, 16000)
    assert len(y) == 16000
    spectrum = np.abs(np.fft.rfft(y))
    assert int(np.argmax(spectrum)) == 440  # 1 s at 16 kHz: bin = Hz
    assert abs(rms(y) - rms(x)) < 1e-3
    want = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    assert np.max(np.abs(y[100:-100] - want[100:-100])) < 1e-6


def test_resample_removes_what_the_new_rate_cannot_hold():
    t = np.arange(22050) / 22050
    y = resample(np.sin(2 * np.pi * 10000 * t), 22050, 16000)  # above 8 kHz Nyquist
    assert rms(y) < 1e-9


@pytest.mark.parametrize("kind", NOISES)
def test_noises_have_unit_rms_and_their_spectral_slope(kind):
    x = noise(kind, 16000, np.random.default_rng(0))
    assert abs(rms(x) - 1) < 1e-9
    power = np.abs(np.fft.rfft(x)) ** 2
    low, high = power[20:200].mean(), power[2000:4000].mean()
    # mean power over the two bands: 1 (white), about 37 (pink: 1/f), about 2e3 or more (brown: 1/f^2)
    ratio = {"white": (0.5, 2), "pink": (20, 60), "brown": (200, 1e6), "hum": (1e3, 1e9)}[kind]
    assert ratio[0] < low / high < ratio[1], (kind, low / high)


def test_add_noise_at_an_snr():
    rng = np.random.default_rng(1)
    x = np.sin(np.arange(16000) / 5)
    n = noise("white", 16000, rng)
    y = add_noise(x, n, 10.0)
    assert abs(20 * np.log10(rms(x) / rms(y - x)) - 10.0) < 1e-9


def test_to_int16_clips():
    assert to_int16(np.array([-2.0, 0.5, 2.0])).tolist() == [-32768, 16384, 32767]
