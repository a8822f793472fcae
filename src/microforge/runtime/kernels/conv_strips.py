"""Single-input-channel convolution as banded (Toeplitz) matrix products, for the integer
CONV_2D / DEPTHWISE_CONV_2D kernels (``conv.py``).

With one input channel, im2col gives a GEMM with only ``k_h * k_w`` columns against few output
channels: a poor shape for BLAS, and a patch matrix ``k_h * k_w`` times the input. Instead the
output columns are cut into strips of ``q`` columns. A strip reads ``width = (q - 1) * stride_w +
(k_w - 1) * dil_w + 1`` padded input columns, so each sample's input is copied once per strip into
a ``(rows, width)`` image (about ``width / (q * stride_w)`` times the input). In such an image the
window of output row ``oy`` is ``span = (k_h - 1) * dil_h + 1`` consecutive rows, i.e. one
contiguous run of ``K = span * width`` values, and one banded matrix ``(K, q * channels)`` maps it
to the ``q`` outputs of that row: ``T[r * width + j * stride_w + fx * dil_w, j * channels + o] =
w[o, fy, fx]`` for ``r = fy * dil_h``, zero elsewhere.

Exactness: every output is the sum of its own ``k_h * k_w`` integer products plus products with
the band's zeros, so each partial sum, in any order, is still bounded by ``max|x| * sum|w|`` of
its channel: the accumulation-dtype choice of ``conv._int_params`` stays valid. Padding cells
and the columns of the last strip beyond the image hold ``x - zero_point = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.limits import check_workspace
from microforge.runtime.kernels.common import strided, workspace

_MIN_LANES = 32  # output columns of the band: q * channels >= this (BLAS-friendly widths)
_MAX_STRIPS = 16  # at most this many strips per output row (one matmul per strip and row)
_VIEW_ROWS = 16  # samples per block from which the strided views feed BLAS directly
_BLOCK_BYTES = 2 << 20  # strip images + accumulators of one block of samples


@dataclass(frozen=True)
class Strips:
    """Banded-matrix plan of a single-channel convolution (see the module docstring)."""

    q: int  # output columns per strip
    count: int  # strips per output row (count * q >= out_w; extra columns are discarded)
    width: int  # input columns per strip
    rows: int  # padded input rows read
    span: int  # input rows of one output row's window
    stride_h: int
    out_h: int
    out_w: int
    pad_top: int
    pad_left: int
    col_step: int  # input columns between strips: q * stride_w
    band: np.ndarray  # (span * width, q * channels) in the accumulation dtype

    @classmethod
    def of(cls, g, weights: np.ndarray, dtype: np.dtype) -> Strips:
        """``g``: the convolution's ``Geometry``; ``weights`` (channels, k_h, k_w) integers."""
        channels = weights.shape[0]
        q = min(g.out_w, max(-(-_MIN_LANES // channels), -(-g.out_w // _MAX_STRIPS)))
        width = (q - 1) * g.stride_w + (g.k_w - 1) * g.dil_w + 1
        span = (g.k_h - 1) * g.dil_h + 1
        check_workspace((span, width, q, channels), np.dtype(dtype).itemsize,
                        "a convolution's strip weights")
        band = np.zeros((span, width, q, channels), dtype)
        for fy in range(g.k_h):
            for fx in range(g.k_w):
                for j in range(q):
                    band[fy * g.dil_h, j * g.stride_w + fx * g.dil_w, j] = weights[:, fy, fx]
        return cls(q, -(-g.out_w // q), width, (g.out_h - 1) * g.stride_h + span, span,
                   g.stride_h, g.out_h, g.out_w, g.pad_top, g.pad_left, q * g.stride_w,
                   band.reshape(span * width, q * channels))

    @property
    def lanes(self) -> int:
        return self.band.shape[1]

    def block(self, n: int) -> int:
        """Samples per block: strip images and accumulators within ``_BLOCK_BYTES``."""
        per_sample = (self.count * self.rows * self.width + self.out_h * self.count * self.lanes)
        return max(1, min(n, _BLOCK_BYTES // (per_sample * self.band.itemsize)))

    def images(self, x: np.ndarray, zero_point: int) -> np.ndarray:
        """(count, n, rows, width) strip images of ``x - zero_point`` for x (n, H, W)."""
        n, in_h, in_w = x.shape
        cols = (self.count - 1) * self.col_step + self.width
        staged = workspace("strips.staged", (n, self.rows, cols), x.dtype)
        staged.fill(zero_point)
        h = min(in_h, self.rows - self.pad_top)
        w = min(in_w, cols - self.pad_left)
        staged[:, self.pad_top:self.pad_top + h, self.pad_left:self.pad_left + w] = x[:, :h, :w]
        view = strided(staged, (self.count, n, self.rows, self.width),
                       (self.col_step, self.rows * cols, cols, 1))
        images = workspace("strips.images", view.shape, self.band.dtype)  # C order
        np.subtract(view, zero_point, out=images, dtype=images.dtype)
        return images

    def accumulate(self, x: np.ndarray, zero_point: int) -> np.ndarray:
        """Accumulators (n, out_h, count * q * channels) for x (n, H, W), in a per-thread
        workspace; the columns past ``out_w * channels`` belong to discarded outputs."""
        n = x.shape[0]
        images = self.images(x, zero_point)
        acc = workspace("strips.acc", (n, self.out_h, self.count, self.lanes), self.band.dtype)
        k = self.band.shape[0]
        image = self.rows * self.width
        if n >= _VIEW_ROWS:  # one matmul per (strip, output row), M = samples, no copy
            windows = strided(images, (self.count, self.out_h, n, k),
                              (n * image, self.stride_h * self.width, image, 1))
            np.matmul(windows, self.band, out=acc.transpose(2, 1, 0, 3))
        else:  # few samples: copy the windows, one matmul per strip with M = samples * out_h
            windows = strided(images, (self.count, n, self.out_h, k),
                              (n * image, image, self.stride_h * self.width, 1))
            patches = workspace("strips.patches", windows.shape, self.band.dtype)
            np.copyto(patches, windows)
            patches = patches.reshape(self.count, n * self.out_h, k)
            out = strided(acc, (self.count, n * self.out_h, self.lanes),
                          (self.lanes, self.count * self.lanes, 1))
            np.matmul(patches, self.band, out=out)
        return acc.reshape(n, self.out_h, -1)
