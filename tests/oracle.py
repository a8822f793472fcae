"""The parity oracle: the tflite-micro package (TFLM's C++ runtime), and seeded random inputs.

Tests compare microforge's batched runtime with TFLM run one sample at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.builders.arrays import bits

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MODELS = SHARED / "models"
DATA = SHARED / "data"


def tflm_runtime():
    """The tflite-micro runtime module; skips the test when the [verify] extra is missing."""
    mod = pytest.importorskip(
        "tflite_micro.python.tflite_micro.runtime",
        reason="tflite-micro not installed (optional extra [verify])",
    )
    return mod


def tflm_interpreter(model: bytes | str | Path):
    runtime = tflm_runtime()
    data = Path(model).read_bytes() if isinstance(model, (str, Path)) else bytes(model)
    return runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 4 << 20))


def tflm_run(model: bytes | str | Path, samples: list[list[np.ndarray]], reset_each: bool = True):
    """Run samples one at a time through TFLM. Each sample is a list of arrays (one per input, in
    the input tensor's exact shape). Returns a list (per output) of arrays stacked over samples.

    ``reset_each=False`` keeps state between samples (a stateful sequence)."""
    interp = tflm_interpreter(model)
    outs: list[list[np.ndarray]] | None = None
    for sample in samples:
        if reset_each:
            interp.reset()
        for i, arr in enumerate(sample):
            interp.set_input(arr, i)
        interp.invoke()
        n_out = len(outs) if outs is not None else _count_outputs(interp)
        got = [np.array(interp.get_output(i)) for i in range(n_out)]
        if outs is None:
            outs = [[] for _ in got]
        for acc, g in zip(outs, got):
            acc.append(g)
    return [np.stack(o) for o in outs]


def _count_outputs(interp) -> int:
    n = 0
    while True:
        try:
            interp.get_output_details(n)
        except Exception:
            return n
        n += 1


def assert_tflm_parity(data: bytes, xs: np.ndarray) -> np.ndarray:
    """One-input model: microforge on the whole batch equals TFLM sample by sample, bit for bit."""
    import microforge

    tflm_runtime()
    got = microforge.load(data).run(xs)[0]
    want = tflm_run(data, [[x] for x in xs])[0]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(bits(got), bits(want))
    return got
