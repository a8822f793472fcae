"""Patch-based execution (MCUNetV2's idea): a chain of convolutions computed band by band of the
last one's output rows, so that the chain's intermediate activations never exist whole.

For each band of output rows the chain is walked backwards: an operator's output rows
``[r0, r1)`` need its input rows ``[max(0, r0*s - pad), min(in_h, (r1-1)*s - pad + (k-1)*d + 1))``
(TFLM's ``in = out * stride - pad + tap * dilation``; taps outside the image read padding). Each
member then runs on that band alone: input height = the band's rows, output height = its rows, and
a top padding of ``pad + a - r0*s`` (the real padding only in the first band). Rows shared by two
neighbouring bands' windows are computed twice: that recomputation (``extra_macs``) is the price
of the smaller peak. Intermediates of a band live in two alternating slots of the stage's scratch
(member j writes slot j mod 2 while reading the other).

With ``retain`` nothing is computed twice: each member but the last keeps its own slot for the
whole stage, holding exactly the rows the next member's new rows read; of those, the rows it
computed in an earlier band are moved to the slot's start (``keep`` rows from row ``move_from``)
and only the others are computed, after them. More slot bytes (one per member instead of two
shared), no recomputation.

Only row geometry lives here (no kernel parameters): ``backends.c.patch`` chooses the stages and
emits the band calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.planner.inplace import max_safe_shift
from microforge.planner.plan import align


@dataclass(frozen=True)
class RowGeometry:
    """One member's vertical geometry (TFLM's conv/depthwise indexing) and its bytes per row."""

    in_h: int
    out_h: int
    k_h: int
    stride: int
    dil: int
    pad_top: int
    in_row_bytes: int
    out_row_bytes: int
    macs_per_row: int

    def input_rows(self, r0: int, r1: int) -> tuple[int, int]:
        """The input rows ``[a, b)`` output rows ``[r0, r1)`` read (padding rows excluded)."""
        a = max(0, r0 * self.stride - self.pad_top)
        b = min(self.in_h, (r1 - 1) * self.stride - self.pad_top + (self.k_h - 1) * self.dil + 1)
        return a, max(a, b)


@dataclass(frozen=True)
class BandCall:
    """One member run on one band: input rows ``[in_first, in_first + in_h)`` (of the stage input
    for member 0, else of the previous member's band), output rows ``[out_first, ...+out_h)``, and
    the top padding that makes the kernel's row indexing land on them."""

    member: int
    in_first: int
    in_h: int
    out_first: int
    out_h: int  # 0: nothing new this band (no call)
    pad_top: int
    keep: int = 0  # retain: rows kept from earlier bands, written before out_first's
    move_from: int = 0  # retain: the slot row they start at before the move to row 0


@dataclass
class PatchStage:
    """A chain of members run band by band; ``bands[b][j]`` is member j's call in band b."""

    members: list[RowGeometry]
    rows_per_band: int
    bands: list[list[BandCall]]
    retain: bool = False

    @property
    def slots(self) -> tuple[int, ...]:
        """Bytes of the intermediate slots (8-byte aligned): two alternating ones, or with
        ``retain`` one per member but the last."""
        sizes = [0] * (len(self.members) - 1 if self.retain else 2)
        for band in self.bands:
            for call in band[:-1]:
                need = (call.keep + call.out_h) * self.members[call.member].out_row_bytes
                k = call.member if self.retain else call.member % 2
                sizes[k] = max(sizes[k], align(need))
        return tuple(sizes)

    def slot_offset(self, member: int) -> int:
        """Offset in the stage scratch of member ``member``'s band output."""
        k = member if self.retain else member % 2
        return sum(self.slots[:k])

    @property
    def scratch_bytes(self) -> int:
        return sum(self.slots)

    @property
    def macs(self) -> int:
        return sum(m.macs_per_row * m.out_h for m in self.members)

    @property
    def extra_macs(self) -> int:
        """MACs of rows computed more than once (the recomputation of overlapping windows)."""
        done = sum(self.members[c.member].macs_per_row * c.out_h for band in self.bands for c in band)
        return max(0, done - self.macs)  # with retain, rows nothing reads are not computed at all

    def inplace_shift(self) -> int:
        """Largest safe (stage output start - stage input start) in bytes: a band reads its input
        rows before it writes its output rows, later bands must find theirs intact."""
        first, last = self.members[0], self.members[-1]
        bands = [band for band in self.bands if band[0].out_h]
        reads = np.array([band[0].in_first * first.in_row_bytes for band in bands])
        ends = np.array([(band[-1].out_first + band[-1].out_h) * last.out_row_bytes
                         for band in bands])
        return max_safe_shift(reads, ends)


def split_rows(members: list[RowGeometry], rows_per_band: int, retain: bool = False) -> PatchStage:
    """The bands of ``rows_per_band`` output rows of the last member, each member's rows found
    backwards through the chain (with ``retain``, only the rows it has not computed yet)."""
    out_h, last = members[-1].out_h, len(members) - 1
    done = [0] * len(members)  # retain: rows each member has computed so far
    held = [0] * len(members)  # retain: the first row in each member's slot
    bands = []
    for r0 in range(0, out_h, rows_per_band):
        lo, hi = r0, min(out_h, r0 + rows_per_band)  # the rows member j must hold
        calls = []
        for j in range(last, -1, -1):
            m = members[j]
            new = max(lo, done[j]) if retain and j < last else lo
            keep, move_from = (new - lo, lo - held[j]) if retain and j < last else (0, 0)
            if hi <= new:  # every row it must hold is there already: nothing below runs
                calls.append(BandCall(j, 0, 0, new, 0, 0, keep, move_from))
                held[j] = lo
                calls += [BandCall(i, 0, 0, done[i], 0, 0) for i in range(j - 1, -1, -1)]
                break
            a, b = m.input_rows(new, hi)
            calls.append(BandCall(j, a, b - a, new, hi - new, m.pad_top + a - new * m.stride,
                                  keep, move_from))
            held[j], done[j] = lo, hi
            lo, hi = a, b
        bands.append(calls[::-1])
    return PatchStage(list(members), rows_per_band, bands, retain)
