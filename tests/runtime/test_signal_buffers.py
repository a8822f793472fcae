"""Oracle tests of SignalFramer, SignalStacker, SignalDelay and SignalOverlapAdd against
tflite-micro: 200-invoke streams (several batched in microforge), resets mid-stream."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from tests.builders.arrays import uniform
from tests.builders.signal import custom_model
from tests.runtime._signal import assert_stream_parity

ROWS, STEPS = 3, 200


def _stream(seed: int, shape, dtype=np.int16) -> np.ndarray:
    return uniform(np.random.default_rng(seed), (ROWS, STEPS) + tuple(shape), dtype)


def _valid_frames(outs):
    """Only frames of invokes whose ``output_valid`` is true are defined in TFLM."""
    frames, valid = outs
    return [frames[valid], valid]


@pytest.mark.parametrize("prefill", [True, False])
@pytest.mark.parametrize("size,step,shape", [(480, 320, (320,)), (6, 4, (8,)), (5, 2, (2, 6)),
                                             (4, 4, (4,)), (7, 3, (3,))])
def test_framer(prefill, size, step, shape):
    inner = shape[-1]
    out_shape = shape[:-1] + (inner // step, size)
    data = custom_model("SignalFramer", [(shape, np.int16)],
                        [(out_shape, np.int16), ((), np.bool_)],
                        frame_size=size, frame_step=step, prefill=prefill)
    for reset_at in (None, 77):
        frames, valid = assert_stream_parity(data, [_stream(size + step, shape)],
                                             reset_at=reset_at, select=_valid_frames)
        assert valid.all() if prefill else valid[:, -1].all()


def test_framer_step_must_divide_the_row():
    data = custom_model("SignalFramer", [((10,), np.int16)], [((2, 6), np.int16), ((), np.bool_)],
                        frame_size=6, frame_step=4, prefill=False)
    with pytest.raises(UnsupportedOpError, match="multiple"):
        microforge.load(data)


@pytest.mark.parametrize("channels,left,right,step", [(40, 3, 0, 1), (4, 1, 1, 1), (5, 0, 2, 2),
                                                      (3, 2, 2, 5), (2, 0, 0, 1)])
def test_stacker(channels, left, right, step):
    size = channels * (left + right + 1)
    data = custom_model("SignalStacker", [((channels,), np.int16)],
                        [((size,), np.int16), ((), np.bool_)], num_channels=channels,
                        stacker_left_context=left, stacker_right_context=right,
                        stacker_step=step)
    for reset_at in (None, 101):
        frames, valid = assert_stream_parity(data, [_stream(channels + left, (channels,))],
                                             reset_at=reset_at, select=_valid_frames)
        assert valid.any()


def test_stacker_step_beyond_the_window_refused():
    data = custom_model("SignalStacker", [((2,), np.int16)], [((4,), np.int16), ((), np.bool_)],
                        num_channels=2, stacker_left_context=1, stacker_right_context=0,
                        stacker_step=3)
    with pytest.raises(UnsupportedOpError, match="stacker_step"):
        microforge.load(data)


@pytest.mark.parametrize("delay,shape", [(3, (8,)), (20, (8,)), (0, (5,)), (160, (2, 320)),
                                         (7, (1, 3, 4))])
def test_delay(delay, shape):
    data = custom_model("SignalDelay", [(shape, np.int16)], [(shape, np.int16)],
                        delay_length=delay)
    for reset_at in (None, 50):
        assert_stream_parity(data, [_stream(delay, shape)], reset_at=reset_at)


@pytest.mark.parametrize("dtype,code", [(np.int16, 7), (np.float32, 0)])
@pytest.mark.parametrize("shape,step", [((1, 512), 320), ((3, 8), 4), ((2, 2, 6), 6),
                                        ((1, 10), 1)])
def test_overlap_add(dtype, code, shape, step):
    out_shape = shape[:-2] + (shape[-2] * step,)
    data = custom_model("SignalOverlapAdd", [(shape, dtype)], [(out_shape, dtype)],
                        T=code, frame_step=step)
    for reset_at in (None, 90):
        assert_stream_parity(data, [_stream(step, shape, dtype)], reset_at=reset_at)
