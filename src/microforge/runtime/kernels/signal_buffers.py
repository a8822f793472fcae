"""Signal-library streaming buffers: SignalFramer, SignalStacker, SignalDelay, SignalOverlapAdd
(``signal/micro/kernels/{framer,stacker,delay,overlap_add}.cc`` over ``circular_buffer.cc``).

TFLM keeps a circular buffer per operator (per outer row for Framer and Delay). Only the FIFO
contents matter to the results, so each is held here as a linear array of the queued samples
plus a fill count (the same for every batch row, as every row sees the same number of samples);
both are operator state (``initial_state``), cleared by ``Model.reset()`` like TFLM's op reset.
Where TFLM leaves an output unwritten (a frame that is not ready: ``output_valid`` false) this
kernel writes zeros; TFLM's value there is whatever the arena held.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.kernels.signal_common import TENSOR_TYPES, check, check_io, options
from microforge.runtime.registry import Kernel, OpContext, register


@dataclass
class FramerParams:
    """SignalFramer: ``frame_size`` / ``frame_step`` / ``prefill`` (the options), ``n_frames``
    frames per innermost row per invoke, ``outer`` rows, the FIFO ``capacity`` (samples) and the
    output tensor's ``out_shape``."""

    frame_size: int
    frame_step: int
    n_frames: int
    outer: int
    capacity: int
    prefill: bool
    out_shape: tuple[int, ...]


@register("SignalFramer")
class Framer(Kernel):
    """TFLM ``framer.cc``: every invoke appends each ``frame_step`` chunk of an innermost row to
    that row's FIFO and, once ``frame_size`` samples are queued, outputs the oldest
    ``frame_size`` and drops ``frame_step``; ``output_valid`` is false when any frame was not
    ready. ``prefill`` queues ``frame_size - frame_step`` zeros at start and on reset. int16.
    Tests: 200-invoke random streams, with and without prefill, several rows and frames per
    invoke, frame_size not a multiple of frame_step, reset mid-stream.
    """

    def prepare(self, ctx: OpContext) -> FramerParams:
        check_io(ctx, [np.int16], [np.int16, np.bool_])
        o = options(ctx, "frame_size", "frame_step", "prefill")
        size, step, prefill = int(o["frame_size"]), int(o["frame_step"]), bool(o["prefill"])
        x, out, valid = ctx.input(0), ctx.output(0), ctx.output(1)
        check(ctx, len(x.shape) >= 1 and len(out.shape) == len(x.shape) + 1 and valid.shape == (),
              "output rank must be the input rank + 1, output_valid a scalar")
        inner = x.shape[-1]
        check(ctx, step > 0 and size > 0 and inner >= step and inner % step == 0,
              f"innermost dimension {inner} is not a multiple of frame_step {step}")
        check(ctx, size >= step, "frame_size smaller than frame_step")
        outer, n_frames = x.size // inner, inner // step
        check(ctx, out.size == outer * n_frames * size, f"output must hold {n_frames} frames per row")
        capacity = -(-size // step) * step
        return FramerParams(size, step, n_frames, outer, capacity, prefill, out.shape)

    def initial_state(self, params: FramerParams) -> list[np.ndarray]:
        fill = params.frame_size - params.frame_step if params.prefill else 0
        return [np.zeros((params.outer, params.capacity), np.int16), np.array(fill, np.int64)]

    def eval(self, params: FramerParams, inputs, ctx):
        x, buf, count = inputs
        p = params
        b = x.shape[0]
        x = x.reshape(b, p.outer, p.n_frames, p.frame_step)
        out = np.zeros((b, p.outer, p.n_frames, p.frame_size), np.int16)
        n = int(count.reshape(-1)[0]) if b else 0
        valid = True
        for f in range(p.n_frames):
            buf[:, :, n : n + p.frame_step] = x[:, :, f]
            n += p.frame_step
            if n >= p.frame_size:
                out[:, :, f] = buf[:, :, : p.frame_size]
                buf[:, :, : n - p.frame_step] = buf[:, :, p.frame_step : n].copy()
                n -= p.frame_step
            else:
                valid = False
        count[...] = n
        return [out.reshape((b,) + p.out_shape), np.full(b, valid)]


@dataclass
class StackerParams:
    """SignalStacker: ``channels`` (``num_channels``), ``left`` (``stacker_left_context``), the
    stacked output size ``buffer_size`` (channels * (left + right + 1)) and ``step_size``
    (channels * ``stacker_step``), in samples."""

    channels: int
    left: int
    buffer_size: int
    step_size: int


@register("SignalStacker")
class Stacker(Kernel):
    """TFLM ``stacker.cc``: every invoke queues one frame of ``num_channels`` values; the very
    first frame is queued ``1 + stacker_left_context`` times (``CircularBufferExtend``); when
    ``(left + right + 1)`` frames are queued they are output (flattened) and ``stacker_step``
    frames dropped, with ``output_valid`` true. int16. Refused: step outside
    ``1..left + right + 1`` (TFLM's buffer asserts).
    Tests: 200-invoke random streams for several contexts and steps, reset mid-stream.
    """

    def prepare(self, ctx: OpContext) -> StackerParams:
        check_io(ctx, [np.int16], [np.int16, np.bool_])
        o = options(ctx, "num_channels", "stacker_left_context", "stacker_right_context",
                    "stacker_step")
        channels, left = int(o["num_channels"]), int(o["stacker_left_context"])
        right, step = int(o["stacker_right_context"]), int(o["stacker_step"])
        check(ctx, channels > 0 and left >= 0 and right >= 0, "bad stacker options")
        check(ctx, 1 <= step <= left + right + 1, f"stacker_step {step} out of range")
        size = channels * (left + right + 1)
        x, out, valid = ctx.input(0), ctx.output(0), ctx.output(1)
        check(ctx, x.shape == (channels,) and out.shape == (size,) and valid.shape == (),
              f"needs input ({channels},), output ({size},) and a scalar output_valid")
        return StackerParams(channels, left, size, channels * step)

    def initial_state(self, params: StackerParams) -> list[np.ndarray]:
        return [np.zeros(params.buffer_size, np.int16), np.array(0, np.int64),
                np.array(False)]

    def eval(self, params: StackerParams, inputs, ctx):
        x, buf, count, started = inputs
        p = params
        b = x.shape[0]
        n = int(count.reshape(-1)[0]) if b else 0
        buf[:, n : n + p.channels] = x
        n += p.channels
        if b and not bool(started.reshape(-1)[0]):
            for _ in range(p.left):
                buf[:, n : n + p.channels] = buf[:, n - p.channels : n]
                n += p.channels
            started[...] = True
        out = np.zeros((b, p.buffer_size), np.int16)
        valid = n >= p.buffer_size
        if valid:
            out[:] = buf[:, : p.buffer_size]
            buf[:, : n - p.step_size] = buf[:, p.step_size : n].copy()
            n -= p.step_size
        count[...] = n
        return [out, np.full(b, valid)]


@dataclass
class DelayParams:
    """SignalDelay: ``frame`` (innermost length), ``delay`` (the option, in samples) and ``outer``
    rows."""

    frame: int
    delay: int
    outer: int


@register("SignalDelay")
class Delay(Kernel):
    """TFLM ``delay.cc``: every innermost row is delayed by ``delay_length`` samples across
    invokes (a FIFO primed with that many zeros, at start and on reset). int16.
    Tests: 200-invoke random streams, delays shorter and longer than the frame, several rows,
    reset mid-stream.
    """

    def prepare(self, ctx: OpContext) -> DelayParams:
        check_io(ctx, [np.int16], [np.int16])
        delay = int(options(ctx, "delay_length")["delay_length"])
        x, out = ctx.input(0), ctx.output()
        check(ctx, delay >= 0 and len(x.shape) >= 1 and out.size == x.size, "bad delay operator")
        return DelayParams(x.shape[-1], delay, x.size // max(x.shape[-1], 1))

    def initial_state(self, params: DelayParams) -> list[np.ndarray]:
        return [np.zeros((params.outer, params.delay), np.int16)]

    def eval(self, params: DelayParams, inputs, ctx):
        x, state = inputs
        b = x.shape[0]
        both = np.concatenate([state, x.reshape(b, params.outer, params.frame)], axis=2)
        state[...] = both[:, :, params.frame :]
        return [both[:, :, : params.frame].reshape((b,) + ctx.output().shape)]


@dataclass
class OverlapAddParams:
    """SignalOverlapAdd: ``frame_size``, ``frame_step`` (the option), ``n_frames`` per row per
    invoke, ``outer`` rows and the sample ``dtype`` (int16 or float32, option ``T``)."""

    frame_size: int
    frame_step: int
    n_frames: int
    outer: int
    dtype: np.dtype


@register("SignalOverlapAdd")
class OverlapAdd(Kernel):
    """TFLM ``overlap_add.cc``: each frame of ``frame_size`` is added into a per-row buffer
    (int16: saturated to int16; float32: one float add), the first ``frame_step`` buffered values
    are output and the buffer shifts by ``frame_step``, zero-filling its tail. The buffer is
    operator state (zeroed at start and on reset).
    Tests: 200-invoke random streams in int16 (saturation) and float32, several frames per
    invoke and several rows, reset mid-stream.
    """

    def prepare(self, ctx: OpContext) -> OverlapAddParams:
        o = options(ctx, "T", "frame_step")
        dtype = TENSOR_TYPES.get(int(o["T"]))
        check(ctx, dtype in (np.dtype(np.int16), np.dtype(np.float32)), f"T={o['T']}")
        check_io(ctx, [dtype], [dtype])
        step = int(o["frame_step"])
        x, out = ctx.input(0), ctx.output()
        check(ctx, len(x.shape) >= 2 and len(out.shape) == len(x.shape) - 1,
              "input rank must be >= 2 and the output rank one less")
        size, n_frames = x.shape[-1], x.shape[-2]
        check(ctx, 0 < step <= size, f"frame_step {step} for frames of {size}")
        outer = x.size // (size * n_frames) if size * n_frames else 0
        check(ctx, out.size == outer * n_frames * step, "output size does not match")
        return OverlapAddParams(size, step, n_frames, outer, dtype)

    def initial_state(self, params: OverlapAddParams) -> list[np.ndarray]:
        return [np.zeros((params.outer, params.frame_size), params.dtype)]

    def eval(self, params: OverlapAddParams, inputs, ctx):
        x, buf = inputs
        p = params
        b = x.shape[0]
        x = x.reshape(b, p.outer, p.n_frames, p.frame_size)
        out = np.empty((b, p.outer, p.n_frames, p.frame_step), p.dtype)
        for f in range(p.n_frames):
            if p.dtype == np.int16:
                total = buf.astype(np.int32) + x[:, :, f]
                buf[...] = np.clip(total, -32768, 32767)
            else:
                buf += x[:, :, f]
            out[:, :, f] = buf[:, :, : p.frame_step]
            buf[:, :, : p.frame_size - p.frame_step] = buf[:, :, p.frame_step :].copy()
            buf[:, :, p.frame_size - p.frame_step :] = 0
        return [out.reshape((b,) + ctx.output().shape)]
