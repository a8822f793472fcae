"""RESIZE_NEAREST_NEIGHBOR, as TFLM's ``resize_nearest_neighbor.cc`` with
``reference_ops::ResizeNearestNeighbor`` and its ``GetNearestNeighbor`` index rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.fixedpoint import round_half_away
from microforge.runtime.registry import Kernel, OpContext, register

_F = np.float32


def nearest_indices(in_size: int, out_size: int, align_corners: bool,
                    half_pixel_centers: bool) -> np.ndarray:
    """``GetNearestNeighbor`` for every output position along one axis (int32): the float32
    ``scale`` is ``(in - 1) / (out - 1)`` with ``align_corners`` (and ``out > 1``), else
    ``in / out``; ``(i + offset) * scale`` in float32 (``offset`` 0.5 with half-pixel centers),
    rounded half away from zero with ``align_corners``, else floored; at most ``in - 1`` and, with
    half-pixel centers, at least 0."""
    if align_corners and out_size > 1:
        scale = _F(in_size - 1) / _F(out_size - 1)
    else:
        scale = _F(in_size) / _F(out_size)
    offset = _F(0.5) if half_pixel_centers else _F(0.0)
    values = (np.arange(out_size, dtype=_F) + offset) * scale
    if align_corners:
        picked = np.array([round_half_away(v) for v in values], np.int64)
    else:
        picked = np.floor(values).astype(np.int64)
    picked = np.minimum(picked, in_size - 1)
    if half_pixel_centers:
        picked = np.maximum(picked, 0)
    return picked.astype(np.int32)


@dataclass
class ResizeNearestParams:
    """RESIZE_NEAREST_NEIGHBOR parameters: ``rows`` (int32, one per output row) and ``cols``
    (int32, one per output column), the input row / column each output pixel copies, as TFLM's
    ``GetNearestNeighbor`` computes them during Eval (here once, at prepare)."""

    rows: np.ndarray
    cols: np.ndarray


@register("RESIZE_NEAREST_NEIGHBOR")
class ResizeNearestNeighbor(Kernel):
    """RESIZE_NEAREST_NEIGHBOR of an NHWC tensor (float32, int8 or int16) to the constant int32
    ``size`` ``[new_height, new_width]``, with the ``align_corners`` and ``half_pixel_centers``
    options. Every output pixel is a copy of one input pixel (all channels), so quantized tensors
    keep their values (TFLM does not look at the quantization parameters).

    Tests: against tflite-micro for each dtype, all four option combinations, upscale, downscale,
    non-integer factors and sizes of one.
    """

    def prepare(self, ctx: OpContext) -> ResizeNearestParams:
        x, size, out = ctx.input(0), ctx.input(1), ctx.output()
        if x.dtype != out.dtype or x.dtype not in (np.float32, np.int8, np.int16):
            raise ctx.unsupported(f"{x.dtype} -> {out.dtype} is not supported")
        if len(x.shape) != 4:
            raise ctx.unsupported("the input must be 4-D (NHWC)")
        if size is None or size.data is None or size.dtype != np.int32 or size.shape != (2,):
            raise ctx.unsupported("size must be a constant int32 tensor of 2 elements")
        height, width = (int(v) for v in size.data)
        if height <= 0 or width <= 0:
            raise ctx.unsupported(f"size {height}x{width} is not positive")
        if tuple(out.shape) != (x.shape[0], height, width, x.shape[3]):
            raise ctx.unsupported(f"output shape {out.shape} does not match size {height}x{width}")
        align = bool(ctx.options.get("align_corners", False))
        half = bool(ctx.options.get("half_pixel_centers", False))
        return ResizeNearestParams(nearest_indices(x.shape[1], height, align, half),
                                   nearest_indices(x.shape[2], width, align, half))

    def eval(self, params: ResizeNearestParams, inputs, ctx):
        x = inputs[0]
        return [np.ascontiguousarray(x[:, :, params.rows][:, :, :, params.cols])]
