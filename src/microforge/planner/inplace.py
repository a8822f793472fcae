"""How far an operator's output may overlap its input.

A kernel runs as a sequence of steps; each step reads some input bytes and then writes some output
bytes. Placing the output ``shift`` bytes after the input's start is safe when no step writes a
byte that a later step still reads:

    shift <= min over steps s of ( min over later steps t of first_read(t) ) - write_end(s)

(within one step all reads happen before its writes). ``max_safe_shift`` computes that bound from
per-step arrays; the codegen emitters describe their C kernel's step order with it.
"""

from __future__ import annotations

import numpy as np

UNBOUNDED = 1 << 62


def max_safe_shift(first_read: np.ndarray, write_end: np.ndarray) -> int:
    """The largest safe output shift (bytes, relative to the input's start) for steps in order."""
    first_read = np.asarray(first_read, np.int64).reshape(-1)
    write_end = np.asarray(write_end, np.int64).reshape(-1)
    if first_read.size <= 1:
        return UNBOUNDED
    later = np.minimum.accumulate(first_read[::-1])[::-1]  # min over steps >= s
    bound = later[1:] - write_end[:-1]
    return int(bound.min())


def window_first_read(out_h: int, out_w: int, stride_h: int, stride_w: int, pad_top: int,
                      pad_left: int, in_h: int, in_w: int) -> np.ndarray:
    """(out_h, out_w) index of the first input pixel (row-major) each output pixel's window reads."""
    iy = np.clip(np.arange(out_h) * stride_h - pad_top, 0, in_h - 1)
    ix = np.clip(np.arange(out_w) * stride_w - pad_left, 0, in_w - 1)
    return iy[:, None] * in_w + ix[None, :]
