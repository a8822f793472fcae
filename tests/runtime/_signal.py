"""Stream parity for the signal-library kernel tests (the signal operators keep state across invokes).

``assert_stream_parity`` runs B independent streams of T invokes: TFLM one stream at a time from
a fresh interpreter, microforge as one model fed the whole batch of B per step, optionally with a
reset of both before step ``reset_at``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import microforge
from tests.builders.arrays import bits
from tests.oracle import tflm_interpreter, tflm_runtime


def tflm_streams(data: bytes, streams: list[np.ndarray], reset_at: int | None) -> list[np.ndarray]:
    """TFLM outputs, per output ``(B, T) + shape``, for per-input streams ``(B, T) + shape``."""
    n_rows, steps = streams[0].shape[:2]
    per_row = []
    for r in range(n_rows):
        interp = tflm_interpreter(data)
        outs: list[list[np.ndarray]] = []
        for t in range(steps):
            if t == reset_at:
                interp.reset()
            for i, s in enumerate(streams):
                interp.set_input(s[r, t], i)
            interp.invoke()
            if not outs:
                outs = [[] for _ in range(_n_outputs(interp))]
            for k, acc in enumerate(outs):
                acc.append(np.array(interp.get_output(k)))
        per_row.append([np.stack(o) for o in outs])
    return [np.stack([row[k] for row in per_row]) for k in range(len(per_row[0]))]


def _n_outputs(interp) -> int:
    n = 0
    while True:
        try:
            interp.get_output_details(n)
        except Exception:  # noqa: BLE001  (the wrapper raises a bare RuntimeError/IndexError)
            return n
        n += 1


def microforge_streams(data: bytes, streams: list[np.ndarray],
                       reset_at: int | None) -> list[np.ndarray]:
    model = microforge.load(data)
    steps = streams[0].shape[1]
    outs: list[list[np.ndarray]] = []
    for t in range(steps):
        if t == reset_at:
            model.reset()
        x = [s[:, t] for s in streams]
        got = model.run(x if len(x) > 1 else x[0])
        if not outs:
            outs = [[] for _ in got]
        for acc, g in zip(outs, got):
            acc.append(g)
    return [np.stack(o, axis=1) for o in outs]


def assert_stream_parity(
    data: bytes,
    streams: list[np.ndarray],
    reset_at: int | None = None,
    select: Callable[[list[np.ndarray]], list[np.ndarray]] | None = None,
) -> list[np.ndarray]:
    """Bit-exact equality of every output at every step; ``select`` picks what to compare
    (e.g. only the elements TFLM defines). Returns microforge's outputs."""
    tflm_runtime()
    ref = tflm_streams(data, streams, reset_at)
    got = microforge_streams(data, streams, reset_at)
    assert len(ref) == len(got)
    if select is not None:
        ref, got = select(ref), select(got)
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.shape == r.shape, (g.dtype, r.dtype, g.shape, r.shape)
        np.testing.assert_array_equal(bits(g), bits(r))
    return got


