"""Activation calibration: run the float model on the calibration set through microforge's batched
float runtime, keep every float tensor's exact min/max and a fixed-size sample of its values, and
turn those into a quantization range with one of these methods:

* ``minmax``: the observed range.
* ``percentile``: the ``percentile``-th and ``100 - percentile``-th percentiles (outliers clipped).
* ``mse``: the clipping range that minimises the expected squared quantization error of the sampled
  values (rounding noise ``scale**2 / 12`` inside the range plus the clipping error outside it),
  searched over a grid of 128 shrink factors for each end.
* ``entropy``: the clipping threshold minimising the KL divergence between the histogram of the
  sampled magnitudes and its quantized version (the TensorRT calibration scheme).
* ``auto`` is not a per-tensor rule: :mod:`.search` picks one of the others per tensor by the
  error of the consuming layer's output.

``collect`` also keeps the first ``KEEP_SAMPLES`` samples of chosen tensors whole (the inputs of
weighted layers), for the range search, bias correction and rounding optimization.

Every range is widened to contain 0 (zero must be exactly representable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir import Graph
from microforge.quantize.progress import Progress
from microforge.runtime.interpreter import Executor

METHODS = ("auto", "minmax", "percentile", "mse", "entropy")
SAMPLE_SIZE = 1 << 17
BATCH = 64
KEEP_SAMPLES = 128  # whole samples kept of the tensors asked for ...
KEEP_VALUES = 1 << 22  # ... at most this many values per tensor


@dataclass
class TensorStats:
    """Observed values of one float tensor over the calibration set."""

    min: float
    max: float
    sample: np.ndarray  # float32, at most SAMPLE_SIZE values drawn evenly from every batch
    whole: np.ndarray | None = None  # the first samples, (n,) + shape, for tensors kept whole


def float_tensors(graph: Graph) -> list[int]:
    """Indices of the non-constant float32 tensors of subgraph 0 (the ones to calibrate)."""
    return [i for i, t in enumerate(graph.main.tensors)
            if t.dtype == np.float32 and not t.is_constant]


def collect(graph: Graph, data: list[np.ndarray], batch: int = BATCH, seed: int = 0,
            keep: set[int] | frozenset[int] = frozenset(),
            progress: bool | None = False) -> dict[int, TensorStats]:
    """Run ``data`` (one ``(N,) + shape`` array per input) and gather each float tensor's stats;
    the tensors in ``keep`` also keep their first samples whole."""
    wanted = set(float_tensors(graph))
    executor = Executor(graph, exact_float=False)  # statistics need no TFLM-exact float sums
    n = data[0].shape[0]
    rng = np.random.default_rng(seed)
    mins: dict[int, float] = {}
    maxs: dict[int, float] = {}
    parts: dict[int, list[np.ndarray]] = {i: [] for i in wanted}
    whole: dict[int, list[np.ndarray]] = {i: [] for i in keep}
    kept = dict.fromkeys(keep, 0)
    with Progress("calibrating", -(-n // batch), progress) as bar:
        for start in range(0, n, batch):
            _collect_batch(executor, [a[start:min(n, start + batch)] for a in data], wanted, rng,
                           max(1, -(-SAMPLE_SIZE * (min(n, start + batch) - start) // n)),
                           (mins, maxs, parts, whole, kept))
            bar.update()
    return {i: TensorStats(mins[i], maxs[i], np.concatenate(parts[i]),
                           np.concatenate(whole[i]) if whole.get(i) else None) for i in mins}


def _collect_batch(executor: Executor, chunk: list[np.ndarray], wanted: set[int],
                   rng: np.random.Generator, quota: int, acc) -> None:
    mins, maxs, parts, whole, kept = acc
    executor.reset()
    _, values = executor.run(chunk, keep_intermediates=True)
    for idx in wanted:
        if idx not in values:
            continue
        value = np.asarray(values[idx], np.float32)
        if idx in whole:
            per = max(1, value[0].size)
            room = min(KEEP_SAMPLES - kept[idx], KEEP_VALUES // per - kept[idx], len(value))
            if room > 0:
                whole[idx].append(value[:room].copy())
                kept[idx] += room
        flat = value.reshape(-1)
        lo, hi = float(flat.min()), float(flat.max())
        mins[idx] = min(lo, mins.get(idx, lo))
        maxs[idx] = max(hi, maxs.get(idx, hi))
        if flat.size > quota:
            flat = flat[rng.integers(0, flat.size, quota)]
        parts[idx].append(flat)


def _with_zero(lo: float, hi: float) -> tuple[float, float]:
    return min(lo, 0.0), max(hi, 0.0)


def percentile_ranges(stats: TensorStats, percentiles: list[float]) -> list[tuple[float, float]]:
    """The ``p``-th and ``100 - p``-th percentiles for each ``p`` (one sort), each widened to
    contain 0."""
    points = np.percentile(stats.sample, [q for p in percentiles for q in (100.0 - p, p)])
    out = []
    for lo, hi in points.reshape(-1, 2):
        lo = stats.min if stats.min >= 0 else lo
        hi = stats.max if stats.max <= 0 else hi
        out.append(_with_zero(float(lo), float(hi)))
    return out


def _percentile_range(stats: TensorStats, percentile: float) -> tuple[float, float]:
    return percentile_ranges(stats, [percentile])[0]


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


def _entropy_range(stats: TensorStats, levels: int) -> tuple[float, float]:
    """TensorRT's entropy calibration on the magnitudes: among thresholds ``t`` (bin edges of a
    2048-bin histogram of |x|), the one whose clipped histogram P (outliers folded into its last
    bin) loses least information, KL(P || Q), when merged into ``levels // 2`` bins (Q spreads
    each merged bin's count evenly over its non-empty bins)."""
    amax = max(-stats.min, stats.max)
    if amax <= 0 or levels > 256:  # 16-bit: 2048 bins are finer than the levels, nothing to merge
        return stats.min, stats.max
    counts, edges = np.histogram(np.abs(stats.sample), bins=2048, range=(0.0, amax))
    counts = counts.astype(np.float64)
    target = max(2, levels // 2)
    best, best_t = np.inf, amax
    for stop in range(128, 2049, 64):
        p = counts[:stop].copy()
        p[-1] += counts[stop:].sum()
        if p.sum() == 0:
            continue
        group = np.arange(stop) * min(target, stop) // stop
        nonzero = (p > 0).astype(np.float64)
        sums = np.bincount(group, weights=counts[:stop])
        filled = np.bincount(group, weights=nonzero)
        q = np.where(nonzero > 0, sums[group] / np.maximum(filled[group], 1), 0.0)
        mask = p > 0
        if (q[mask] == 0).any():
            continue
        pn, qn = p / p.sum(), q / q.sum()
        kl = float((pn[mask] * np.log(pn[mask] / qn[mask])).sum())
        if kl < best:
            best, best_t = kl, float(edges[stop])
    lo = stats.min if stats.min >= 0 else max(stats.min, -best_t)
    hi = stats.max if stats.max <= 0 else min(stats.max, best_t)
    return lo, hi


def choose_range(stats: TensorStats, method: str, levels: int = 256, symmetric: bool = False,
                 percentile: float = 99.99) -> tuple[float, float]:
    """The quantization range of one tensor (always containing 0) by a per-tensor method."""
    if method == "minmax":
        lo, hi = stats.min, stats.max
    elif method == "percentile":
        lo, hi = _percentile_range(stats, percentile)
    elif method == "mse":
        lo, hi = _mse_range(stats, levels, symmetric)
    elif method == "entropy":
        lo, hi = _entropy_range(stats, levels)
    else:
        raise ValueError(f"unknown calibration method {method!r}; choose from {METHODS}")
    return _with_zero(lo, hi)
