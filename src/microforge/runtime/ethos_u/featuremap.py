"""Feature maps in the NPU's memory: the IFM, IFM2 and OFM register groups, NHWC and NHCWB16
layouts, the four tiles, read and written for a whole batch at once.

A feature map is up to four tiles (``xFM_HEIGHT0_M1``, ``xFM_HEIGHT1_M1``, ``xFM_WIDTH0_M1``,
base addresses ``xFM_BASE0..3``), as Vela's ``get_address`` lays them out: tile 0 holds rows
``[0, height0)`` of columns ``[0, width0)``, tile 1 rows ``[0, height1)`` of the columns from
``width0`` on, tile 2 the rows from ``height0`` on of the left columns, tile 3 the rest. Inside a
tile, element (y, x, c) is at ``base + y * STRIDE_Y + x * STRIDE_X + c * size`` in NHWC and at
``base + y * STRIDE_Y + x * 16 * size + (c // 16) * STRIDE_C + (c % 16) * size`` in NHCWB16 (bricks
of 16 channels). Memory is one ``(batch, bytes)`` uint8 array per region; reading outside it is a
``ModelError`` naming the command.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.errors import ModelError

#: (numpy dtype, bytes) per IFM precision code (bits 0-3 of xFM_PRECISION)
IFM_TYPES = {0: np.uint8, 1: np.int8, 4: np.uint16, 5: np.int16, 9: np.int32}
#: per OFM precision code (bits 0-2 of OFM_PRECISION)
OFM_TYPES = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 5: np.int32}


@dataclass
class FeatureMap:
    region: int
    bases: tuple[int, int, int, int]
    height0: int
    height1: int
    width0: int
    strides: tuple[int, int, int]  # y, x, c (registers)
    dtype: type
    brick: bool  # NHCWB16
    zero_point: int

    @property
    def size(self) -> int:
        return np.dtype(self.dtype).itemsize

    def addresses(self, h: int, w: int, c: int, y0: int = 0) -> np.ndarray:
        """Byte address of the first byte of every element (h, w, c) of rows y0.. (int64)."""
        ys = np.arange(y0, y0 + h)[:, None]
        xs = np.arange(w)[None, :]
        right = xs >= self.width0
        lower = np.where(right, ys >= self.height1, ys >= self.height0)
        tile = right.astype(np.int64) + 2 * lower
        ty = ys - np.where(lower, np.where(right, self.height1, self.height0), 0)
        tx = xs - np.where(right, self.width0, 0)
        sy, sx, sc = self.strides
        cs = np.arange(c)
        if self.brick:
            xstep = 16 * self.size
            coff = (cs // 16) * sc + (cs % 16) * self.size
        else:
            xstep = sx
            coff = cs * self.size
        base = np.asarray(self.bases, dtype=np.int64)[tile]
        yx = base + ty * sy + tx * xstep
        return yx[:, :, None] + coff[None, None, :]

    def _check(self, addr: np.ndarray, mem: np.ndarray, what: str, where: str) -> None:
        if addr.size == 0:
            return
        lo, hi = int(addr.min()), int(addr.max()) + self.size
        if lo < 0 or hi > mem.shape[1]:
            raise ModelError(f"{where}: the {what} reaches bytes [{lo}, {hi}) of region "
                             f"{self.region}, which holds {mem.shape[1]} bytes")

    def read(self, mem: np.ndarray, h: int, w: int, c: int, what: str, where: str,
             y0: int = 0) -> np.ndarray:
        """(B, h, w, c) elements of this feature map from ``mem`` (B or 1 rows of bytes)."""
        addr = self.addresses(h, w, c, y0)
        self._check(addr, mem, what, where)
        k = self.size
        if k == 1:
            raw = mem[:, addr]
        else:
            raw = mem[:, addr[..., None] + np.arange(k)]
        return np.ascontiguousarray(raw).view(self.dtype).reshape(mem.shape[0], h, w, c)

    def write(self, mem: np.ndarray, values: np.ndarray, what: str, where: str) -> None:
        """Store (B, h, w, c) values (already of this feature map's dtype)."""
        _, h, w, c = values.shape
        addr = self.addresses(h, w, c)
        self._check(addr, mem, what, where)
        k = self.size
        data = np.ascontiguousarray(values.astype(self.dtype)).view(np.uint8)
        if k == 1:
            mem[:, addr] = data.reshape(values.shape)
        else:
            mem[:, addr[..., None] + np.arange(k)] = data.reshape(values.shape + (k,))
