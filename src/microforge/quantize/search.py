"""``auto`` calibration: per tensor, the candidate range (minmax, a fused RELU6 / RELU_N1_TO_1
bound, percentile 99.99 and 99.9, mse, entropy) whose quantization error hurts its consumers
least on the calibration data.

A consumer that is a weighted layer (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) is scored by
the error of its output: ``‖W (q(x) − x)‖² / ‖W x + b‖²`` over its calibration patches, where
``q`` quantizes to the candidate's int8 (int16) parameters. Any other consumer, and a graph output,
by the relative error of the tensor itself (its next layer's input). A tensor's score is the sum
over its consumers; ties keep the earlier candidate (minmax first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir import Graph
from microforge.ir.ops import ACTIVATION_BOUNDS
from microforge.quantize.calibration import TensorStats, choose_range, percentile_ranges
from microforge.quantize.linear import LinearLayer
from microforge.quantize.progress import Progress
from microforge.quantize.weights import activation_params

SEARCH_ROWS = 2048  # patch rows per weighted consumer scored per candidate
PERCENTILES = [99.99, 99.9]


@dataclass
class RangeChoice:
    """The range chosen for one tensor, by which candidate, and every candidate's score."""

    method: str
    range: tuple[float, float]
    scores: dict[str, float]


def activation_bounded_ranges(graph: Graph) -> dict[int, tuple[float, float]]:
    """An output clamped by a fused RELU6 (RELU_N1_TO_1) may take its whole possible range [0, 6]
    ([-1, 1]) instead of the observed one: inputs beyond the calibration set are never clipped
    there."""
    out = {}
    for op in graph.main.operators:
        bound = ACTIVATION_BOUNDS.get(int(op.options.get("fused_activation_function") or 0))
        if bound is not None and op.outputs:
            out[op.outputs[0]] = bound
    return out


def candidates(stats: TensorStats, int16: bool, bound: tuple[float, float] | None
               ) -> dict[str, tuple[float, float]]:
    """The candidate ranges of one tensor, duplicates removed (the first name kept)."""
    levels = 65536 if int16 else 256
    found = {"minmax": choose_range(stats, "minmax", levels, int16)}
    if bound is not None:
        found["bounded"] = bound
    for p, r in zip(PERCENTILES, percentile_ranges(stats, PERCENTILES)):
        found[f"percentile {p:g}"] = r
    found["mse"] = choose_range(stats, "mse", levels, int16)
    found["entropy"] = choose_range(stats, "entropy", levels, int16)
    unique: dict[str, tuple[float, float]] = {}
    for name, r in found.items():
        if r not in unique.values():
            unique[name] = r
    return unique


def fake_quantize(x: np.ndarray, lo: float, hi: float, int16: bool) -> np.ndarray:
    """``x`` quantized to the activation parameters of [lo, hi] and back to float."""
    scale, zp = activation_params(lo, hi, int16)
    qmin, qmax = (-32768, 32767) if int16 else (-128, 127)
    q = np.clip(np.round(x / np.float32(scale)) + zp, qmin, qmax)
    return ((q - zp) * scale).astype(np.float32)


class _Scorer:
    def __init__(self, layer: LinearLayer) -> None:
        step = max(1, len(layer.patches) // SEARCH_ROWS)
        self.layer, self.patches = layer, layer.patches[::step]
        ref = layer.apply(self.patches, layer.weights.astype(np.float32))
        if layer.bias is not None:
            ref = ref + layer.bias
        self.power = max(float((ref.astype(np.float64) ** 2).sum()), 1e-30)
        self.weights = layer.weights.astype(np.float32)

    def __call__(self, lo: float, hi: float, int16: bool) -> float:
        error = fake_quantize(self.patches, lo, hi, int16) - self.patches
        out = self.layer.apply(error, self.weights).astype(np.float64)
        return float((out ** 2).sum()) / self.power


def _tensor_error(sample: np.ndarray, lo: float, hi: float, int16: bool) -> float:
    power = max(float((sample.astype(np.float64) ** 2).sum()), 1e-30)
    return float(((fake_quantize(sample, lo, hi, int16) - sample).astype(np.float64) ** 2).sum()
                 ) / power


def search_ranges(graph: Graph, stats: dict[int, TensorStats], layers: dict[int, LinearLayer],
                  int16: bool = False, progress: bool | None = False) -> dict[int, RangeChoice]:
    """The ``auto`` range of every calibrated tensor; ``layers`` maps the index of each weighted
    operator to its linear view (:func:`microforge.quantize.linear.linear_layer`)."""
    sg = graph.main
    bounds = activation_bounded_ranges(graph)
    readers: dict[int, list[int]] = {}
    for i, op in enumerate(sg.operators):
        for t in set(op.inputs):
            readers.setdefault(t, []).append(i)
    scorers = {i: _Scorer(layer) for i, layer in layers.items()}
    out: dict[int, RangeChoice] = {}
    with Progress("searching ranges", len(stats), progress) as bar:
        for t, s in stats.items():
            options = candidates(s, int16, bounds.get(t))
            scores = dict.fromkeys(options, 0.0)
            users = readers.get(t, [])
            weighted = [i for i in users if i in scorers and sg.operators[i].inputs[0] == t]
            other = len(users) - len(weighted) + (t in sg.outputs)
            if len(options) > 1:
                for name, (lo, hi) in options.items():
                    scores[name] = sum(scorers[i](lo, hi, int16) for i in weighted)
                    if other or not weighted:
                        scores[name] += max(other, 1) * _tensor_error(s.sample, lo, hi, int16)
            best = min(scores, key=scores.__getitem__)
            out[t] = RangeChoice(best, options[best], scores)
            bar.update(note=sg.tensors[t].name)
    return out
