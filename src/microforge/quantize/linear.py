"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED seen as one linear map per output channel:
``out[m, o] = Σ_k patch[m, k] · w[o, k] + b[o]`` (before the fused activation), where a patch is
what one output position reads (im2col, with TFLM's padding: zeros outside the image).

Depthwise patches keep their channel axis, ``(M, K, C)``: output channel ``o`` reads input channel
``o // depth_multiplier`` (TFLM's ``ic * depth_multiplier + m`` order). The range search, bias
correction and rounding optimization all work on this view, from the calibration activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir import Operator, Subgraph
from microforge.runtime.kernels.conv import Geometry

LINEAR = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
MAX_ROWS = 4096  # patch rows kept per layer (drawn at random from the calibration samples)


@dataclass
class LinearLayer:
    """One weighted operator: its weights as ``(O, K)`` rows, bias ``(O,)`` (or None), and a
    random subset of its calibration input patches with their mean and second moment."""

    op_index: int
    opcode: str
    weights: np.ndarray  # (O, K) float64
    bias: np.ndarray | None  # (O,) float64
    patches: np.ndarray  # (M, K) or, depthwise, (M, K, C) float32
    channel: np.ndarray  # (O,) input channel each output reads (depthwise), else zeros
    mean: np.ndarray  # (O, K): E[patch] as output channel o sees it
    gram: np.ndarray  # (K, K) or, depthwise, (C, K, K): E[patch patchᵀ]

    @property
    def depthwise(self) -> bool:
        return self.patches.ndim == 3

    def apply(self, patches: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``(M, O)`` outputs of ``weights`` (O, K) on ``patches``, without bias."""
        if not self.depthwise:
            return patches @ weights.T
        return np.einsum("mko,ok->mo", patches[:, :, self.channel], weights, optimize=True)

    def gram_of(self, o: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Second moments per output channel: (K, K) shared, or (O, K, K) depthwise."""
        return self.gram[self.channel[o]] if self.depthwise else self.gram

    def error_power(self, delta: np.ndarray, centred: bool = False) -> np.ndarray:
        """Per output channel, E[(Δw · patch)²] for weight errors ``delta`` (O, K); with
        ``centred`` the mean shift (what bias correction removes) is left out."""
        g = self.gram_of()
        moved = delta @ g if g.ndim == 2 else np.einsum("ok,okl->ol", delta, g)
        quad = (moved * delta).sum(axis=1)
        if centred:
            quad = quad - (delta * self.mean).sum(axis=1) ** 2
        return np.maximum(quad, 0.0)

    def signal_power(self) -> np.ndarray:
        """Per output channel, E[(w · patch + b)²]."""
        power = self.error_power(self.weights)
        if self.bias is not None:
            power = power + 2 * self.bias * (self.weights * self.mean).sum(axis=1) + self.bias ** 2
        return np.maximum(power, 0.0)


def weight_rows(opcode: str, w: np.ndarray) -> np.ndarray:
    """An operator's weights as (O, K) rows in patch order."""
    if opcode == "DEPTHWISE_CONV_2D":  # [1, KH, KW, O]
        return w.reshape(-1, w.shape[-1]).T
    return w.reshape(w.shape[0], -1)  # [O, KH, KW, I] or [O, I]


def weights_from_rows(opcode: str, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`weight_rows`."""
    if opcode == "DEPTHWISE_CONV_2D":
        return rows.T.reshape(shape)
    return rows.reshape(shape)


def patches_of(op: Operator, sg: Subgraph, x: np.ndarray, rows: int = MAX_ROWS,
               seed: int = 0) -> np.ndarray:
    """At most ``rows`` random patches of the input samples ``x`` ((n,) + input tensor shape)."""
    rng = np.random.default_rng(seed)
    w = sg.tensors[op.inputs[1]]
    if op.opcode == "FULLY_CONNECTED":
        flat = x.reshape(-1, w.shape[1])
        return flat[_pick(len(flat), rows, rng)]
    out = sg.tensors[op.outputs[0]]
    x = x.reshape((-1,) + tuple(sg.tensors[op.inputs[0]].shape[1:]))  # samples x model batch
    kh, kw = w.shape[1], w.shape[2]
    g = Geometry.of(op.options, (1,) + tuple(x.shape[1:]), kh, kw, out.shape)
    per_sample = g.out_h * g.out_w
    take = _pick(len(x) * per_sample, rows, rng)
    samples, positions = np.divmod(take, per_sample)
    oy, ox = np.divmod(positions, g.out_w)
    used = np.unique(samples)
    padded = g.pad(x[used].astype(np.float32))
    where = np.searchsorted(used, samples)
    patches = np.stack([padded[where, oy * g.stride_h + fy * g.dil_h, ox * g.stride_w + fx * g.dil_w]
                        for fy, fx in g.taps], axis=1)  # (M, T, C)
    if op.opcode == "DEPTHWISE_CONV_2D":
        return patches  # (M, T, C)
    return patches.reshape(len(patches), -1)  # (M, T * C), the filter's [KH, KW, I] order


def _pick(n: int, rows: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= rows else np.sort(rng.choice(n, rows, replace=False))


def linear_layer(op_index: int, sg: Subgraph, x: np.ndarray, rows: int = MAX_ROWS) -> LinearLayer:
    """The linear view of operator ``op_index`` with statistics from its input samples ``x``."""
    op = sg.operators[op_index]
    w = sg.tensors[op.inputs[1]].data.astype(np.float64)
    b_t = sg.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    bias = None if b_t is None else b_t.data.astype(np.float64).reshape(-1)
    rows_w = weight_rows(op.opcode, w)
    patches = patches_of(op, sg, x, rows).astype(np.float32)
    if patches.ndim == 3:
        c = patches.shape[2]
        channel = np.arange(rows_w.shape[0]) // max(1, rows_w.shape[0] // c)
        by_channel = np.ascontiguousarray(patches.transpose(2, 1, 0))  # (C, K, M)
        gram = (by_channel @ by_channel.transpose(0, 2, 1)).astype(np.float64) / len(patches)
        mean = patches.mean(axis=0, dtype=np.float64).T[channel]
    else:
        channel = np.zeros(rows_w.shape[0], np.int64)
        gram = (patches.T @ patches).astype(np.float64) / len(patches)
        mean = np.broadcast_to(patches.mean(axis=0, dtype=np.float64), rows_w.shape).copy()
    return LinearLayer(op_index, op.opcode, rows_w, bias, patches, channel, mean, gram)
