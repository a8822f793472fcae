"""``auto`` calibration: per tensor, the candidate range (minmax, a fused RELU6 / RELU_N1_TO_1
bound, percentile 99.99 and 99.9, mse, entropy) whose quantization error hurts its consumers
least on the calibration data.

A consumer that is a weighted layer (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) is scored by
the error of its output: ``‖W (q(x) − x)‖² / ‖W x + b‖²`` over its calibration patches, where
``q`` quantizes to the candidate's int8 (int16) parameters. Any other consumer, and a graph output,
by the relative error of the tensor itself (its next layer's input), except a LOGISTIC or TANH
consumer: its output is quantized to parameters TFLM fixes (1/256 and 1/128 for int8), so inputs
past the point where the output rounds to its extreme level all give the same integer output.
Such a tensor also gets candidates clipped there (and at 85% and 70% of it), and is scored by the
error of the fake-quantized consumer output ``q_out(f(q(x)))`` against ``f(x)``. A tensor's score
is the sum over its consumers; ties keep the earlier candidate (minmax first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microforge.ir import Graph
from microforge.ir.ops import ACTIVATION_BOUNDS
from microforge.quantize.calibration import TensorStats, choose_range, percentile_ranges
from microforge.quantize.linear import LinearLayer
from microforge.quantize.progress import Progress
from microforge.quantize.weights import activation_params

SEARCH_ROWS = 2048  # patch rows per weighted consumer scored per candidate
PERCENTILES = [99.99, 99.9]
SQUASH_CLIPS = (1.0, 0.85, 0.7)  # fractions of the saturation point tried on a squashed input


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


# opcode -> (function, inverse)
SQUASH = {"LOGISTIC": (_logistic, _logit), "TANH": (np.tanh, lambda y: float(np.arctanh(y)))}


@dataclass
class RangeChoice:
    """The range chosen for one tensor, by which candidate, every candidate's score and range."""

    method: str
    range: tuple[float, float]
    scores: dict[str, float]
    candidates: dict[str, tuple[float, float]] = field(default_factory=dict)


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


def saturation(opcode: str, fixed: tuple[float, int], int16: bool) -> tuple[float, float]:
    """The inputs of a LOGISTIC / TANH with fixed output parameters beyond which its quantized
    output is (safely) the lowest / highest level."""
    scale, zp = fixed
    qmin, qmax = (-32768, 32767) if int16 else (-128, 127)
    inverse = SQUASH[opcode][1]
    # a quarter level inside the rounding boundary: the input range's own grid (zero point
    # nudged) must not move its extreme values back across it
    # (int16's LOGISTIC has no negative outputs: its lowest level is then the one of 0)
    floor, ceiling = (0.0, 1.0) if opcode == "LOGISTIC" else (-1.0, 1.0)
    lo = max((qmin - zp + 0.25) * scale, floor + 0.25 * scale)
    hi = min((qmax - zp - 0.25) * scale, ceiling - 0.25 * scale)
    return inverse(lo), inverse(hi)


def squash_candidates(options: dict[str, tuple[float, float]], sat: tuple[float, float]
                      ) -> dict[str, tuple[float, float]]:
    """``options`` plus ranges clipped at fractions of the saturation points (each containing 0)."""
    lo, hi = options["minmax"]
    out = dict(options)
    for f in SQUASH_CLIPS:
        r = (min(0.0, max(lo, f * sat[0])), max(0.0, min(hi, f * sat[1])))
        if r not in out.values():
            out[f"saturation {f:g}"] = r
    return out


def _squash_error(sample: np.ndarray, lo: float, hi: float, int16: bool, opcode: str,
                  fixed: tuple[float, int]) -> float:
    fn = SQUASH[opcode][0]
    ref = fn(sample.astype(np.float64))
    qmin, qmax = (-32768, 32767) if int16 else (-128, 127)
    scale, zp = fixed
    y = fn(fake_quantize(sample, lo, hi, int16).astype(np.float64))
    y = (np.clip(np.round(y / scale) + zp, qmin, qmax) - zp) * scale
    return float(((y - ref) ** 2).sum()) / max(float((ref ** 2).sum()), 1e-30)


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
                  int16: bool = False, progress: bool | None = False,
                  fixed: dict[str, tuple[float, int]] | None = None) -> dict[int, RangeChoice]:
    """The ``auto`` range of every calibrated tensor; ``layers`` maps the index of each weighted
    operator to its linear view (:func:`microforge.quantize.linear.linear_layer`); ``fixed``
    gives the output parameters of LOGISTIC / TANH."""
    fixed = fixed or {}
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
            users = readers.get(t, [])
            weighted = [i for i in users if i in scorers and sg.operators[i].inputs[0] == t]
            squashed = [sg.operators[i].opcode for i in users
                        if sg.operators[i].opcode in SQUASH and sg.operators[i].opcode in fixed]
            for opcode in squashed:
                options = squash_candidates(options, saturation(opcode, fixed[opcode], int16))
            scores = dict.fromkeys(options, 0.0)
            other = len(users) - len(weighted) - len(squashed) + (t in sg.outputs)
            if len(options) > 1:
                for name, (lo, hi) in options.items():
                    scores[name] = sum(scorers[i](lo, hi, int16) for i in weighted)
                    scores[name] += sum(_squash_error(s.sample, lo, hi, int16, opcode,
                                                      fixed[opcode]) for opcode in squashed)
                    if other or not (weighted or squashed):
                        scores[name] += max(other, 1) * _tensor_error(s.sample, lo, hi, int16)
            best = min(scores, key=scores.__getitem__)
            out[t] = RangeChoice(best, options[best], scores, options)
            bar.update(note=sg.tensors[t].name)
    return out
