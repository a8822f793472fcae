"""Signal helpers in numpy: FFT resampling, generated noises (white, pink, brown, mains hum) and
mixing at a signal-to-noise ratio."""

from __future__ import annotations

import numpy as np

NOISES = ("white", "pink", "brown", "hum")


def resample(x: np.ndarray, rate_in: int, rate_out: float) -> np.ndarray:
    """``x`` (float) from ``rate_in`` to ``rate_out`` Hz by truncating or zero-padding its spectrum
    (band-limited interpolation; espeak-ng writes 22050 Hz, the front end needs 16 kHz)."""
    n = len(x)
    m = max(1, int(round(n * rate_out / rate_in)))
    if n == 0 or m == n:
        return np.asarray(x, np.float64).copy()
    spec = np.fft.rfft(x)
    keep = min(len(spec), m // 2 + 1)
    out = np.zeros(m // 2 + 1, complex)
    out[:keep] = spec[:keep]
    if m % 2 == 0 and keep == m // 2 + 1:
        out[-1] = out[-1].real  # the Nyquist bin of an even length is real
    return np.fft.irfft(out, m) * (m / n)


def noise(kind: str, n: int, rng: np.random.Generator, rate: int = 16000) -> np.ndarray:
    """``n`` samples of unit-RMS noise: white, pink (1/f power), brown (1/f^2) or hum (50 or 60 Hz
    and harmonics with a little white noise)."""
    if kind == "hum":
        t = np.arange(n) / rate
        f0 = rng.choice([50.0, 60.0])
        x = sum(rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 2 * np.pi))
                for k in range(1, 6))
        x = x + 0.05 * rng.standard_normal(n)
    else:
        white = rng.standard_normal(n)
        if kind == "white":
            x = white
        elif kind in ("pink", "brown"):
            spec = np.fft.rfft(white)
            f = np.arange(len(spec), dtype=np.float64)
            f[0] = 1.0
            spec = spec / (np.sqrt(f) if kind == "pink" else f)
            spec[0] = 0.0
            x = np.fft.irfft(spec, n)
        else:
            raise ValueError(f"unknown noise {kind!r} (one of {', '.join(NOISES)})")
    rms = float(np.sqrt(np.mean(x * x))) or 1.0
    return x / rms


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def add_noise(x: np.ndarray, n: np.ndarray, snr_db: float) -> np.ndarray:
    """``x`` plus noise ``n`` scaled so the ratio of their RMS levels is ``snr_db``."""
    level = rms(x) / (10 ** (snr_db / 20)) if rms(x) > 0 else 0.0
    return x + n[: len(x)] * level / (rms(n[: len(x)]) or 1.0)


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] as int16 PCM (clipped)."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
