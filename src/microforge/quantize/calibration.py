"""Activation calibration: run the float model on the calibration set through microforge's batched
float runtime, keep every float tensor's exact min/max and a fixed-size sample of its values, and
turn those into a quantization range with one of three methods:

* ``minmax``: the observed range.
* ``percentile``: the ``percentile``-th and ``100 - percentile``-th percentiles (outliers clipped).
* ``mse``: the clipping range that minimises the expected squared quantization error of the sampled
  values (rounding noise ``scale**2 / 12`` inside the range plus the clipping error outside it),
  searched over a grid of 128 shrink factors for each end.

Every range is widened to contain 0 (zero must be exactly representable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir import Graph
from microforge.runtime.interpreter import Executor

METHODS = ("minmax", "percentile", "mse")
SAMPLE_SIZE = 1 << 17
BATCH = 64


@dataclass
class TensorStats:
    """Observed values of one float tensor over the calibration set."""

    min: float
    max: float
    sample: np.ndarray  # float32, at most SAMPLE_SIZE values drawn evenly from every batch


def float_tensors(graph: Graph) -> list[int]:
    """Indices of the non-constant float32 tensors of subgraph 0 (the ones to calibrate)."""
    return [i for i, t in enumerate(graph.main.tensors)
            if t.dtype == np.float32 and not t.is_constant]


def collect(graph: Graph, data: list[np.ndarray], batch: int = BATCH,
            seed: int = 0) -> dict[int, TensorStats]:
    """Run ``data`` (one ``(N,) + shape`` array per input) and gather each float tensor's stats."""
    wanted = set(float_tensors(graph))
    executor = Executor(graph)
    n = data[0].shape[0]
    rng = np.random.default_rng(seed)
    mins: dict[int, float] = {}
    maxs: dict[int, float] = {}
    parts: dict[int, list[np.ndarray]] = {i: [] for i in wanted}
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        quota = max(1, -(-SAMPLE_SIZE * (stop - start) // n))
        executor.reset()
        _, values = executor.run([a[start:stop] for a in data], keep_intermediates=True)
        for idx in wanted:
            if idx not in values:
                continue
            flat = np.asarray(values[idx], np.float32).reshape(-1)
            lo, hi = float(flat.min()), float(flat.max())
            mins[idx] = min(lo, mins.get(idx, lo))
            maxs[idx] = max(hi, maxs.get(idx, hi))
            if flat.size > quota:
                flat = flat[rng.integers(0, flat.size, quota)]
            parts[idx].append(flat)
    return {i: TensorStats(mins[i], maxs[i], np.concatenate(parts[i])) for i in mins}


def _with_zero(lo: float, hi: float) -> tuple[float, float]:
    return min(lo, 0.0), max(hi, 0.0)


def _percentile_range(stats: TensorStats, percentile: float) -> tuple[float, float]:
    lo, hi = np.percentile(stats.sample, [100.0 - percentile, percentile])
    lo = stats.min if stats.min >= 0 else lo
    hi = stats.max if stats.max <= 0 else hi
    return float(lo), float(hi)


def _mse_range(stats: TensorStats, levels: int, symmetric: bool) -> tuple[float, float]:
    """Grid search over clipping ranges; the squared error of each candidate comes from prefix
    sums over a 2048-bin histogram of the sample, so every candidate costs O(1)."""
    lo, hi = _with_zero(stats.min, stats.max)
    if hi - lo <= 0:
        return lo, hi
    counts, edges = np.histogram(stats.sample, bins=2048, range=(lo, hi))
    x = (edges[:-1] + edges[1:]) / 2
    w = counts.astype(np.float64)
    prefix = [np.concatenate([[0.0], np.cumsum(v)]) for v in (w, w * x, w * x * x)]
    grid = np.linspace(1.0 / 128, 1.0, 128)
    if symmetric:
        bound = max(-lo, hi) * grid
        a, b = -bound, bound
    else:
        los = lo * grid if lo < 0 else np.zeros(1)
        his = hi * grid if hi > 0 else np.zeros(1)
        a, b = (g.reshape(-1) for g in np.meshgrid(los, his, indexing="ij"))
    below = np.searchsorted(x, a, side="left")
    above = np.searchsorted(x, b, side="right")
    n, s1, s2 = (p[below] for p in prefix)
    error = s2 - 2 * a * s1 + a * a * n
    n, s1, s2 = (p[-1] - p[above] for p in prefix)
    error += s2 - 2 * b * s1 + b * b * n
    inside = prefix[0][above] - prefix[0][below]
    error += inside * ((b - a) / (levels - 1)) ** 2 / 12
    best = int(np.argmin(error))
    return float(a[best]), float(b[best])


def choose_range(stats: TensorStats, method: str, levels: int = 256, symmetric: bool = False,
                 percentile: float = 99.99) -> tuple[float, float]:
    """The quantization range of one tensor (always containing 0)."""
    if method == "minmax":
        lo, hi = stats.min, stats.max
    elif method == "percentile":
        lo, hi = _percentile_range(stats, percentile)
    elif method == "mse":
        lo, hi = _mse_range(stats, levels, symmetric)
    else:
        raise ValueError(f"unknown calibration method {method!r}; choose from {METHODS}")
    return _with_zero(lo, hi)
