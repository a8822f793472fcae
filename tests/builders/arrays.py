"""Seeded test arrays: random inputs over a dtype's range (extremes first), float specials, and
``bits`` (the integer view that makes float comparisons bit-exact)."""

from __future__ import annotations

import numpy as np


def random_inputs(shape, dtype, n: int, seed: int, extremes: bool = True) -> np.ndarray:
    """n seeded random samples of one input: uniform over the dtype, the first samples set to the
    dtype's extremes (all min, all max, alternating) when ``extremes``."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        x = rng.uniform(-1.0, 1.0, size=(n,) + tuple(shape)).astype(dtype)
        return x
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, size=(n,) + tuple(shape), endpoint=True, dtype=dtype)
    if extremes and n >= 3:
        x[0] = info.min
        x[1] = info.max
        flat = x[2].reshape(-1)
        flat[0::2] = info.min
        flat[1::2] = info.max
    return x


def bits(x: np.ndarray) -> np.ndarray:
    """An integer view of an array, so that float comparisons are bit-exact (-0.0, NaN payloads)."""
    x = np.ascontiguousarray(x)
    if x.dtype.kind == "f":
        return x.view(np.dtype(f"u{x.dtype.itemsize}"))
    return x


N = 200


def sample(shape, dtype, seed: int, n: int = N, scale: float = 1.0) -> np.ndarray:
    """Seeded random inputs: integers over the whole dtype range (extremes first), floats uniform
    in [-scale, scale] with a few special values (+-0.0, +-inf, NaN, huge) in the first samples."""
    x = random_inputs(shape, dtype, n, seed)
    if np.dtype(dtype).kind == "f":
        x = (x * scale).astype(dtype)
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45], dtype)
        flat = x[0].reshape(-1)
        k = min(flat.size, special.size)
        flat[:k] = special[:k]
    return x


def uniform(rng: np.random.Generator, shape, dtype, low=None, high=None) -> np.ndarray:
    """Seeded integers over [low, high] (default: the dtype's range), or floats in [-1, 1)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    lo = info.min if low is None else low
    hi = info.max if high is None else high
    return rng.integers(lo, hi, size=shape, endpoint=True, dtype=dtype)
