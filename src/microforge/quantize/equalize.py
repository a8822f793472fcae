"""Activation equalization between consecutive weighted layers (the cross-layer scaling of Nagel
et al., "Data-Free Quantization", 2019, applied to activation ranges).

An int8 activation has one scale for all its channels, so a channel whose values stay far below
the tensor's largest channel gets few levels. When a CONV_2D / DEPTHWISE_CONV_2D /
FULLY_CONNECTED with no activation or a fused RELU writes a tensor that only weighted layers read
(as their input), channel ``c`` can be multiplied by ``s_c > 0`` in the producer (its weights' and
bias's output channel ``c``) and divided by it in each consumer (the weights reading input channel
``c``): ``relu(s z) = s relu(z)``, so the float model computes the same outputs. With ``s_c`` =
(largest channel max) / (channel ``c``'s max), capped at ``MAX_SCALE``, every channel spans the
tensor's range. Per-channel weight scales absorb the producer's change exactly, and a depthwise
consumer's too; a CONV_2D / FULLY_CONNECTED consumer's weight columns shrink, which costs a little
weight precision on those columns (the cap bounds it).

The channel maxima come from a float run on the first ``SAMPLES`` calibration samples; the
rewrite happens on the prepared graph before calibration.
"""

from __future__ import annotations

import numpy as np

from microforge.ir import Activation, Graph
from microforge.runtime.interpreter import Executor

LINEAR = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
HOMOGENEOUS = (Activation.NONE, Activation.RELU)  # f(s z) = s f(z) for s > 0
CAPS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)  # the candidate caps on s_c
SAMPLES = 64


def _pairs(graph: Graph) -> dict[int, tuple[int, list[int]]]:
    """tensor -> (producer, consumers) for the tensors that can be equalized."""
    sg = graph.main
    readers: dict[int, list[int]] = {}
    for i, op in enumerate(sg.operators):
        for t in set(op.inputs):
            readers.setdefault(t, []).append(i)
    out = {}
    for i, op in enumerate(sg.operators):
        if op.opcode not in LINEAR or len(op.inputs) < 2 or len(op.outputs) != 1:
            continue
        if any(len(readers.get(c, [])) > 1 for c in op.inputs[1:] if c >= 0):  # shared constant
            continue
        act = int(op.options.get("fused_activation_function") or 0)
        t = op.outputs[0]
        w = sg.tensor(op.inputs[1])
        if act not in HOMOGENEOUS or t in sg.outputs or w is None or not w.is_constant:
            continue
        if op.opcode == "FULLY_CONNECTED" and len(sg.tensors[t].shape) != 2:
            continue
        users = readers.get(t, [])
        channels = sg.tensors[t].shape[-1]
        if users and all(_consumes(sg, u, t, channels) for u in users):
            out[t] = (i, users)
    return out


def _consumes(sg, u: int, t: int, channels: int) -> bool:
    op = sg.operators[u]
    if op.opcode not in LINEAR or op.inputs[0] != t or t in op.inputs[1:]:
        return False
    w = sg.tensor(op.inputs[1])
    if w is None or not w.is_constant:
        return False
    if op.opcode == "FULLY_CONNECTED":
        return w.shape[-1] == channels and len(sg.tensors[t].shape) == 2
    return sg.tensors[t].shape[-1] == channels


def _scaled(data: np.ndarray, factors: np.ndarray, axis: int) -> np.ndarray:
    shape = [1] * data.ndim
    shape[axis] = -1
    return (data.astype(np.float64) * factors.reshape(shape)).astype(data.dtype)


def _noise(sg, t: int, users: list[int], s: np.ndarray, step: float, power: np.ndarray) -> float:
    """Modelled output noise power of ``t``'s consumers with channel factors ``s``: the
    activation's rounding noise (``step**2 / 12`` per input value) through the rescaled weights,
    plus each weight row's rounding noise (``(max|w| / 127)**2 / 12`` per weight) times the
    rescaled inputs' power (``power``: E[x_c**2] per channel)."""
    total = 0.0
    for u in users:
        op = sg.operators[u]
        w = sg.tensors[op.inputs[1]].data.astype(np.float64)
        if op.opcode == "DEPTHWISE_CONV_2D":  # per-channel scales absorb s: only activation noise
            rows = w.reshape(-1, w.shape[-1]).T  # (C * M, taps)
            m = rows.shape[0] // len(s)
            total += float((rows ** 2).sum(axis=1) @ np.repeat(1.0 / s ** 2, m)) * step ** 2 / 12
            continue
        rows = w.reshape(w.shape[0], -1, len(s)) / s  # (O, taps, C)
        total += float((rows ** 2).sum()) * step ** 2 / 12
        row_step = np.abs(rows).reshape(len(rows), -1).max(axis=1) / 127.0
        total += float((row_step ** 2).sum()) / 12 * rows.shape[1] * float((power * s ** 2).sum())
    return total


def equalize(graph: Graph, data: list[np.ndarray]) -> int:
    """Equalize ``graph`` (a prepared float graph, changed in place) on calibration ``data``;
    returns the number of tensors rescaled."""
    sg = graph.main
    pairs = _pairs(graph)
    if not pairs or any(t.is_variable for t in sg.tensors):
        return 0
    inputs = [d[:SAMPLES] for d in data]
    _, values = Executor(graph, exact_float=False).run(inputs, keep_intermediates=True)
    done = 0
    for t, (producer, users) in pairs.items():
        x = values[t].reshape(-1, sg.tensors[t].shape[-1]).astype(np.float64)
        v = np.abs(x).max(axis=0)
        top = float(v.max(initial=0.0))
        if top <= 0:
            continue
        step = (float(x.max()) - min(float(x.min()), 0.0)) / 255.0
        power = (x ** 2).mean(axis=0)
        options = [np.clip(top / np.maximum(v, top / cap), 1.0, cap) for cap in CAPS]
        s = min(options, key=lambda f: _noise(sg, t, users, f, step, power))
        if np.all(s < 1.01):
            continue
        _rescale(sg, producer, s, out_side=True)
        for u in users:
            _rescale(sg, u, 1.0 / s, out_side=False)
        done += 1
    return done


def _rescale(sg, i: int, s: np.ndarray, out_side: bool) -> None:
    """Multiply operator ``i``'s output channels (``out_side``, with the bias) or the weights
    reading its input channels by ``s``."""
    op = sg.operators[i]
    w = sg.tensors[op.inputs[1]]
    data = w.data
    if op.opcode == "DEPTHWISE_CONV_2D":  # [1, KH, KW, C * M]: output o reads input o // M
        factors = s if out_side else np.repeat(s, data.shape[-1] // len(s))
        data = _scaled(data, factors, 3)
    elif out_side:  # [O, ...]
        data = _scaled(data, s, 0)
    else:  # [O, KH, KW, I] or [O, I]
        data = _scaled(data, s, data.ndim - 1)
    _replace(sg, op.inputs[1], data)
    if out_side and len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = sg.tensors[op.inputs[2]]
        _replace(sg, op.inputs[2], _scaled(b.data, s, 0))


def _replace(sg, t: int, data: np.ndarray) -> None:
    data = np.ascontiguousarray(data)
    data.flags.writeable = False
    sg.tensors[t].data = data
