"""Single-operator PRELU and RESIZE_NEAREST_NEIGHBOR graphs shared by the numpy-runtime oracle
tests and the C backend tests."""

from __future__ import annotations

import numpy as np

from microforge.ir.builder import GraphBuilder

# (input shape, alpha shape): Keras-style per-channel (1, 1, C), ONNX-style (C,), a one-element
# and a scalar alpha, per pixel, per row, 1-D and 3-D inputs, and an input broadcast by alpha.
PRELU_CASES = [
    ((1, 4, 5, 3), (1, 1, 3)),
    ((1, 4, 5, 3), (3,)),
    ((1, 4, 5, 3), (1,)),
    ((1, 4, 5, 3), ()),
    ((1, 4, 5, 3), (4, 5, 3)),
    ((1, 4, 5, 3), (4, 1, 1)),
    ((2, 6, 4), (1, 4)),
    ((10,), (10,)),
    ((1, 1, 5, 3), (4, 1, 3)),
]


def prelu_quant(dtype, rng: np.random.Generator):
    """Random (scale, zero point) of input, alpha (int8) and output for ``dtype`` activations."""
    if np.dtype(dtype) == np.float32:
        return (None, None), (None, None), (None, None)
    wide = np.dtype(dtype) == np.int16
    zp = 500 if wide else 40
    act = [(float(np.float32(10 ** rng.uniform(-2.5, -1) / (100 if wide else 1))),
            int(rng.integers(-zp, zp))) for _ in range(2)]
    alpha = (float(np.float32(10 ** rng.uniform(-3, -1.5))), int(rng.integers(-20, 20)))
    return act[0], alpha, act[1]


def prelu_model(dtype, in_shape, alpha_shape, seed: int, alpha_dtype=np.int8) -> GraphBuilder:
    """PRELU of a ``dtype`` input with a constant alpha of random values (negative, below and
    above one); an ``alpha_dtype`` alpha for integer inputs."""
    rng = np.random.default_rng(seed)
    qin, qalpha, qout = prelu_quant(dtype, rng)
    out_shape = tuple(np.broadcast_shapes(in_shape, alpha_shape))
    b = GraphBuilder()
    x = b.input("x", in_shape, dtype, *qin)
    if np.dtype(dtype) == np.float32:
        alpha = b.const("alpha", rng.uniform(-1.5, 2.0, alpha_shape).astype(np.float32))
    else:
        values = rng.integers(-128, 128, alpha_shape).astype(alpha_dtype)
        alpha = b.const("alpha", values, alpha_dtype, *qalpha)
    y = b.tensor("y", out_shape, dtype, *qout)
    b.op("PRELU", [x, alpha], [y])
    b.output(y)
    return b


# (input NHWC shape, [new_height, new_width]): upscale by integer and non-integer factors,
# downscale, mixed, sizes of one, batch of two.
RESIZE_CASES = [
    ((1, 4, 5, 3), (8, 10)),
    ((1, 4, 5, 3), (7, 9)),
    ((1, 4, 5, 3), (2, 3)),
    ((1, 4, 5, 3), (1, 1)),
    ((1, 4, 5, 3), (3, 11)),
    ((1, 1, 1, 2), (3, 4)),
    ((2, 3, 3, 2), (5, 7)),
]
RESIZE_OPTIONS = [(False, False), (True, False), (False, True), (True, True)]


def resize_model(dtype, in_shape, size, align_corners: bool, half_pixel_centers: bool,
                 quant=(None, None)) -> GraphBuilder:
    b = GraphBuilder()
    x = b.input("x", in_shape, dtype, *quant)
    y = b.tensor("y", (in_shape[0], size[0], size[1], in_shape[3]), dtype, *quant)
    b.op("RESIZE_NEAREST_NEIGHBOR", [x, b.const("size", np.array(size, np.int32))], [y],
         align_corners=align_corners, half_pixel_centers=half_pixel_centers)
    b.output(y)
    return b
