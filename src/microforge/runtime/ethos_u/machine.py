"""The register file and the command loop: cmd0/cmd1 commands set registers, ``NPU_OP_*``
commands run one operation on the register state of that moment.

Memory: region ``r`` of the command stream is the driver's base address ``r`` (0 the flash, 1 the
scratch area with the subgraph's inputs and outputs at Vela's offsets, 2 the fast scratch, ...),
one ``(batch, bytes)`` uint8 array each (a constant region may have one row). ``DMA`` with the
``internal`` bit of ``DMA0_DST_REGION`` writes the NPU's SHRAM, where activation look-up tables
live (slot ``k`` of ``ACTIVATION`` 16+k at SHRAM byte ``(banks - 2) * 1024 + 256 * k``, as Vela's
``shram_lut_address`` places them; banks from the CONFIG word).
"""

from __future__ import annotations

import numpy as np

from microforge.errors import ModelError
from microforge.runtime.ethos_u import ops
from microforge.runtime.ethos_u.featuremap import IFM_TYPES, OFM_TYPES, FeatureMap
from microforge.runtime.ethos_u.stream import Command, Payload

_IGNORED_OPS = {"NPU_OP_STOP", "NPU_OP_IRQ", "NPU_OP_DMA_WAIT", "NPU_OP_KERNEL_WAIT", "NPU_OP_PMU_MASK"}


def signed16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


class Machine:
    """One NPU executing a payload over a batch of memories."""

    def __init__(self, payload: Payload, regions: dict[int, np.ndarray], where: str,
                 ncores: int | None = None, cache: dict | None = None) -> None:
        self.payload = payload
        self.cache = {} if cache is None else cache  # decoded weights, kept across runs
        self.regions = regions
        self.where = where
        config = payload.config or 0
        # 512 MACs per cycle (log2 9) is the only two-core configuration (Ethos-U65-512)
        self.ncores = ncores or (2 if config & 0xF == 9 else 1)
        ncores = self.ncores
        self.shram_kb = max((config >> 8) & 0xFF, 16) // max(ncores, 1)
        self.macs_log2 = config & 0xF
        batch = max(m.shape[0] for m in regions.values())
        self.shram = np.zeros((batch, max(self.shram_kb, 16) * 1024), dtype=np.uint8)
        self.r0: dict[str, int] = {}
        self.r1: dict[str, Command] = {}
        self.cmd: Command | None = None

    # -- registers -------------------------------------------------------------------------
    def p(self, name: str) -> int:
        return self.r0.get("NPU_SET_" + name, 0)

    def addr(self, name: str) -> int:
        c = self.r1.get("NPU_SET_" + name)
        return 0 if c is None else c.address

    def data(self, name: str) -> int:
        c = self.r1.get("NPU_SET_" + name)
        return 0 if c is None else int(c.data or 0)

    def param1(self, name: str) -> int:
        c = self.r1.get("NPU_SET_" + name)
        return 0 if c is None else c.param

    @property
    def here(self) -> str:
        c = self.cmd
        return f"{self.where}, command {c.index} ({c.name})" if c else self.where

    def region(self, r: int) -> np.ndarray:
        if r not in self.regions:
            raise ModelError(f"{self.here}: region {r} has no base address (the operator passes "
                             f"{sorted(self.regions)})")
        return self.regions[r]

    def fm(self, prefix: str) -> FeatureMap:
        prec = self.p(prefix + "_PRECISION")
        types = OFM_TYPES if prefix == "OFM" else IFM_TYPES
        code = prec & (0x7 if prefix == "OFM" else 0xF)
        if code not in types:
            raise ModelError(f"{self.here}: {prefix}_PRECISION has an unknown precision {code}")
        return FeatureMap(
            region=self.p(prefix + "_REGION") & 0x7,
            bases=tuple(self.addr(f"{prefix}_BASE{i}") for i in range(4)),
            height0=self.p(prefix + "_HEIGHT0_M1") + 1,
            height1=self.p(prefix + "_HEIGHT1_M1") + 1,
            width0=self.p(prefix + "_WIDTH0_M1") + 1,
            strides=(self.data(prefix + "_STRIDE_Y"), self.data(prefix + "_STRIDE_X"),
                     self.data(prefix + "_STRIDE_C")),
            dtype=types[code],
            brick=(prec >> 6) & 0x3 == 1,
            zero_point=signed16(self.p(prefix + "_ZERO_POINT")),
        )

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        for c in self.payload.commands:
            self.cmd = c
            if not c.name.startswith("NPU_OP_"):
                (self.r1 if c.data is not None else self.r0)[c.name] = c if c.data is not None else c.param
                continue
            if c.name in _IGNORED_OPS:
                if c.name == "NPU_OP_STOP":
                    break
                continue
            if c.name == "NPU_OP_DMA_START":
                self.dma()
            elif c.name == "NPU_OP_CONV":
                ops.convolution(self, depthwise=False)
            elif c.name == "NPU_OP_DEPTHWISE":
                ops.convolution(self, depthwise=True)
            elif c.name == "NPU_OP_POOL":
                ops.pooling(self, c.param)
            elif c.name == "NPU_OP_ELEMENTWISE":
                ops.elementwise(self, c.param)
            else:
                raise ModelError(f"{self.here}: the emulator does not execute this operation")
        self.cmd = None

    def dma(self) -> None:
        src_r, dst_r = self.p("DMA0_SRC_REGION"), self.p("DMA0_DST_REGION")
        if (src_r >> 9) & 0x3 or (dst_r >> 9) & 0x3:
            raise ModelError(f"{self.here}: only 1D DMA (stride mode 0) is emulated")
        n = self.data("DMA0_LEN")
        src = self.shram if (src_r >> 8) & 1 else self.region(src_r & 0xFF)
        dst = self.shram if (dst_r >> 8) & 1 else self.region(dst_r & 0xFF)
        s, d = self.addr("DMA0_SRC"), self.addr("DMA0_DST")
        for mem, a, what in ((src, s, "source"), (dst, d, "destination")):
            if a < 0 or a + n > mem.shape[1]:
                raise ModelError(f"{self.here}: the DMA {what} [{a}, {a + n}) is outside its "
                                 f"{mem.shape[1]}-byte memory")
        if dst.shape[0] < src.shape[0]:
            raise ModelError(f"{self.here}: DMA from per-sample memory into a constant region")
        dst[:, d:d + n] = src[:, s:s + n]

    def lut(self, slot: int, entries: int, entry_bytes: int) -> np.ndarray:
        """(B, entries) little-endian table from SHRAM slot ``slot``."""
        start = (self.shram_kb - 2) * 1024 + 256 * slot
        raw = self.shram[:, start:start + entries * entry_bytes]
        dtype = {1: np.int8, 2: np.int16, 4: np.int32}[entry_bytes]
        return np.ascontiguousarray(raw).view(dtype)
