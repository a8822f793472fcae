"""Weight tuning from calibration data, applied while each weighted layer is quantized.

* **Bias correction** (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
  Correction", 2019, in its empirical form): rounding the weights shifts the expected output of
  channel ``o`` by ``Δw_o · E[patch]``; that shift is subtracted from the float bias before it is
  quantized to int32, so the int8 layer is unbiased on the calibration data.
* **Learned rounding** (AdaRound, Nagel et al., "Up or Down? Adaptive Rounding for Post-Training
  Quantization", 2020): each weight rounds down or up (``floor(w/s) + h``, ``h`` in [0, 1] a
  rectified sigmoid of a free variable), chosen by Adam to minimise the layer's output error
  ``E[(Δw_o · patch)²]`` (centred when bias correction follows) plus a regulariser
  ``λ Σ 1 − |2h − 1|^β`` that pushes every ``h`` to 0 or 1 as ``β`` anneals from 20 to 2. It runs
  at most ``iterations`` steps and ``budget`` seconds per layer; the learned rounding is kept only
  when its output error is below round-to-nearest's.

Only the integer values and the bias change: scales, zero points and the TFLM rules stay as
:func:`microforge.quantize.weights.quantize_layer` makes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microforge.quantize.linear import LinearLayer, weight_rows, weights_from_rows
from microforge.quantize.progress import Progress

ITERATIONS = 400
BUDGET_S = 2.0
# the default (``optimize_rounding=None``): learned rounding only on layers whose Adam step is cheap
# (O * K**2 multiply-adds for the (O, K) weights; depthwise O * K**2 too), with fewer steps
SMALL_COST = 1 << 21
SMALL_ITERATIONS, SMALL_BUDGET_S = 200, 0.5
ZETA, GAMMA = 1.1, -0.1  # AdaRound's rectified sigmoid stretch
REG_WEIGHT = 1.0
WARMUP = 0.2  # fraction of steps without the regulariser


@dataclass
class LayerTuning:
    """What tuning did to one weighted layer: its output SQNR from weight rounding alone on the
    calibration patches, before and after bias correction (and with learned rounding)."""

    name: str
    opcode: str
    sqnr_nearest_db: float  # round to nearest, no bias correction
    sqnr_db: float  # the weights used (learned rounding when kept), before bias correction
    sqnr_corrected_db: float | None  # ... after bias correction (None: not applied)
    rounding: str  # "nearest" or "learned"
    iterations: int = 0


def _db(signal: float, noise: float) -> float:
    return float("inf") if noise <= 0 else 10.0 * float(np.log10(max(signal, 1e-30) / noise))


def _centred_gram(layer: LinearLayer) -> np.ndarray:
    g = layer.gram_of()
    if g.ndim == 2:
        return g - np.outer(layer.mean[0], layer.mean[0])
    return g - np.einsum("ok,ol->okl", layer.mean, layer.mean)


def learned_rounding(layer: LinearLayer, scale: np.ndarray, centred: bool,
                     iterations: int = ITERATIONS, budget: float = BUDGET_S
                     ) -> tuple[np.ndarray, int]:
    """AdaRound's integer rows (O, K) for the layer's weights at per-row ``scale``, and the
    number of steps run."""
    s = scale.astype(np.float64)[:, None]
    x = layer.weights / s
    floor = np.floor(x)
    rest = x - floor
    p = np.clip((rest - GAMMA) / (ZETA - GAMMA), 1e-4, 1 - 1e-4)
    v = np.log(p / (1 - p))
    g = _centred_gram(layer) if centred else layer.gram_of()
    s2 = s ** 2

    def mul(d: np.ndarray) -> np.ndarray:
        return d @ g if g.ndim == 2 else np.einsum("ok,okl->ol", d, g)

    def loss(d: np.ndarray) -> float:
        return float((s2 * d * mul(d)).sum())

    base = max(loss(np.round(x) - x), 1e-30)
    m, u = np.zeros_like(v), np.zeros_like(v)
    lr, b1, b2 = 0.05, 0.9, 0.999
    start, step = time.perf_counter(), 0
    while step < iterations and time.perf_counter() - start < budget:
        step += 1
        sig = 1 / (1 + np.exp(-v))
        raw = sig * (ZETA - GAMMA) + GAMMA
        h = np.clip(raw, 0, 1)
        d = floor + h - x
        grad_h = 2 * s2 * mul(d) / base
        frac = step / iterations
        if frac > WARMUP:
            beta = 20 + (2 - 20) * (frac - WARMUP) / (1 - WARMUP)
            t = 2 * h - 1
            grad_h -= REG_WEIGHT * 2 * beta * np.abs(t) ** (beta - 1) * np.sign(t) / h.size
        grad = grad_h * ((raw > 0) & (raw < 1)) * (ZETA - GAMMA) * sig * (1 - sig)
        m = b1 * m + (1 - b1) * grad
        u = b2 * u + (1 - b2) * grad ** 2
        v -= lr * (m / (1 - b1 ** step)) / (np.sqrt(u / (1 - b2 ** step)) + 1e-8)
    h = np.clip((1 / (1 + np.exp(-v))) * (ZETA - GAMMA) + GAMMA, 0, 1)
    learned = np.clip(floor + (h >= 0.5), -127, 127)
    nearest = np.clip(np.round(x), -127, 127)
    return (learned if loss(learned - x) < loss(nearest - x) else nearest), step


class WeightTuner:
    """Hands :func:`microforge.quantize.convert.convert` one tuning function per weighted layer
    and records what it did (``records``)."""

    def __init__(self, layers: dict[int, LinearLayer], names: dict[int, str],
                 bias_correction: bool = True, optimize_rounding: bool = False,
                 iterations: int = ITERATIONS, budget: float = BUDGET_S,
                 progress: bool | None = False, small_only: bool = False) -> None:
        self.layers, self.names = layers, names
        self.small_only = small_only
        if small_only:
            iterations, budget = min(iterations, SMALL_ITERATIONS), min(budget, SMALL_BUDGET_S)
        self.bias_correction, self.optimize_rounding = bias_correction, optimize_rounding
        self.iterations, self.budget = iterations, budget
        self.records: dict[int, LayerTuning] = {}
        self._done: dict[tuple[int, bytes], tuple[np.ndarray, np.ndarray | None, LayerTuning]] = {}
        self.bar = Progress("optimizing rounding", len(layers), progress and optimize_rounding)

    def __call__(self, op_index: int) -> Callable | None:
        layer = self.layers.get(op_index)
        if layer is None:
            return None

        def tune(weights: np.ndarray, scale: np.ndarray, bias: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray | None]:
            return self._tune(op_index, layer, weights, scale, bias)

        return tune

    def _tune(self, op_index: int, layer: LinearLayer, weights: np.ndarray, scale: np.ndarray,
              bias: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Tuned once per layer and weight scale (``--mixed`` converts the graph several times)."""
        key = (op_index, scale.astype(np.float64).tobytes() + (b"" if bias is None else b"b"))
        if key not in self._done:
            self._done[key] = self._tune_once(op_index, layer, weights, scale, bias)
        q, new_bias, record = self._done[key]
        self.records[op_index] = record
        return q, new_bias

    def _tune_once(self, op_index: int, layer: LinearLayer, weights: np.ndarray,
                   scale: np.ndarray, bias: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray | None, LayerTuning]:
        rows = weight_rows(layer.opcode, weights.astype(np.float64))
        s = scale.astype(np.float64)[:, None]
        nearest = np.clip(np.round(rows / s), -127, 127)
        correct = self.bias_correction and bias is not None
        q, steps, how = nearest, 0, "nearest"
        rows_o, rows_k = layer.weights.shape
        if self.optimize_rounding and (not self.small_only or rows_o * rows_k ** 2 <= SMALL_COST):
            q, steps = learned_rounding(layer, scale, correct, self.iterations, self.budget)
            how = "learned" if not np.array_equal(q, nearest) else "nearest"
            self.bar.update(note=self.names.get(op_index, ""))
        signal = float(layer.signal_power().sum())
        delta = q * s - rows
        before = _db(signal, float(layer.error_power(nearest * s - rows).sum()))
        used = _db(signal, float(layer.error_power(delta).sum()))
        after = None
        if correct:
            bias = bias - (delta * layer.mean).sum(axis=1)
            after = _db(signal, float(layer.error_power(delta, centred=True).sum()))
        record = LayerTuning(self.names.get(op_index, ""), layer.opcode, before, used, after, how,
                             steps)
        return weights_from_rows(layer.opcode, q, weights.shape).astype(np.int8), bias, record

    def close(self) -> None:
        self.bar.__exit__()
