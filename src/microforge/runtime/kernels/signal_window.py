"""Signal-library SignalWindow: multiply by a window and shift (``signal/src/window.cc``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.kernels.signal_common import check, check_io, constant, options, rows
from microforge.runtime.registry import Kernel, OpContext, register


@dataclass
class WindowParams:
    """SignalWindow: the constant window ``weights`` as (1, 1, n) int32 values of the int16
    tensor, the right ``shift`` (option) and the output tensor's ``out_shape``."""

    weights: np.ndarray
    shift: int
    out_shape: tuple[int, ...]


@register("SignalWindow")
class Window(Kernel):
    """TFLM ``window.cc`` / ``ApplyWindow``: for every innermost row,
    ``out = saturate_int16((int32(x) * w) >> shift)`` (arithmetic shift, so negative products
    round toward minus infinity). int16 input, weights and output; the weights must be constant
    and their length must divide the input's size (TFLM would read past the end otherwise).
    Tests: random int16 frames with the preprocessor's window (shift 12) and random windows with
    shifts 0, 8, 15 (saturation both ways), several rows.
    """

    def prepare(self, ctx: OpContext) -> WindowParams:
        check_io(ctx, [np.int16, np.int16], [np.int16])
        opts = options(ctx, "shift")
        shift = int(opts["shift"])
        check(ctx, 0 <= shift < 32, f"shift {shift}")
        x, w, out = ctx.input(0), ctx.input(1), ctx.output()
        check(ctx, len(x.shape) >= 1 and len(w.shape) == 1 and len(out.shape) == len(x.shape),
              "bad ranks")
        weights = constant(ctx, 1).astype(np.int32)
        check(ctx, weights.size > 0 and x.size % weights.size == 0,
              f"input size {x.size} is not a multiple of the window length {weights.size}")
        check(ctx, out.size == x.size, "output and input sizes differ")
        return WindowParams(weights.reshape(1, 1, -1), shift, out.shape)

    def eval(self, params: WindowParams, inputs, ctx):
        x = rows(inputs[0], params.weights.shape[-1]).astype(np.int32)
        raw = (x * params.weights) >> params.shift
        out = np.clip(raw, -32768, 32767).astype(np.int16)
        return [out.reshape((x.shape[0],) + params.out_shape)]
