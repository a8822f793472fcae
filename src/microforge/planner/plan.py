"""The arena plan: buffers with lifetimes, their offsets, and a checker."""

from __future__ import annotations

from dataclasses import dataclass, field

ALIGNMENT = 8


def align(n: int, to: int = ALIGNMENT) -> int:
    return (n + to - 1) // to * to


@dataclass
class Buffer:
    """Bytes that must stay intact from operator ``first`` to operator ``last`` (inclusive).

    ``tensors`` are the tensor indices stored in it (several when views or in-place operators share
    the bytes); ``scratch_of`` names the operator of a scratch buffer.
    """

    id: int
    size: int
    first: int
    last: int
    tensors: list[int] = field(default_factory=list)
    scratch_of: int | None = None
    overlap_src: int | None = None  # in-place: the input buffer this one may overlap ...
    overlap_shift: int = 0  # ... when (own offset - its offset) <= overlap_shift

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


def may_share(a: Buffer, a_off: int, b: Buffer, b_off: int) -> bool:
    """True when a and b may overlap in bytes at these offsets (an in-place pair within its
    kernel's safe shift)."""
    if a.overlap_src == b.id:
        return a_off - b_off <= a.overlap_shift
    if b.overlap_src == a.id:
        return b_off - a_off <= b.overlap_shift
    return False


@dataclass
class ArenaPlan:
    buffers: list[Buffer]
    offsets: dict[int, int]  # buffer id -> byte offset
    strategy: str
    lower_bound: int = 0

    @property
    def size(self) -> int:
        return max((self.offsets[b.id] + align(b.size) for b in self.buffers), default=0)

    def offset_of_tensor(self, tensor: int) -> int | None:
        for b in self.buffers:
            if tensor in b.tensors:
                return self.offsets[b.id]
        return None

    def overlapping(self) -> set[int]:
        """Ids of buffers that actually overlap their in-place input in this plan."""
        by_id = {b.id: b for b in self.buffers}
        out = set()
        for b in self.buffers:
            if b.overlap_src is not None:
                src = by_id[b.overlap_src]
                o, so = self.offsets[b.id], self.offsets[src.id]
                if o < so + src.size and so < o + b.size:
                    out.add(b.id)
        return out


def peak_live_bytes(buffers: list[Buffer]) -> int:
    """The largest sum of live buffer sizes at any operator: no plan can be smaller. An in-place
    pair counts as the smallest union its shift allows."""
    return max(live_bytes_by_step(buffers), default=0)


def live_bytes_by_step(buffers: list[Buffer]) -> list[int]:
    """Per operator, the sum of live (aligned) buffer sizes, an in-place pair counted as the
    smallest union its shift allows."""
    if not buffers:
        return []
    by_id = {b.id: b for b in buffers}
    steps = max(b.last for b in buffers) + 1
    totals = []
    for t in range(steps):
        live = [b for b in buffers if b.first <= t <= b.last]
        total = sum(align(b.size) for b in live)
        for b in live:
            src = by_id.get(b.overlap_src) if b.overlap_src is not None else None
            if src is not None and src in live:
                pair = max(align(src.size) + max(0, -b.overlap_shift), align(b.size))
                total -= align(src.size) + align(b.size) - pair
        totals.append(total)
    return totals


def verify_plan(plan: ArenaPlan) -> None:
    """Raise AssertionError if two buffers live at the same time share a byte or any buffer is
    misaligned or unplaced."""
    for b in plan.buffers:
        off = plan.offsets.get(b.id)
        if off is None:
            raise AssertionError(f"buffer {b.id} has no offset")
        if off % ALIGNMENT:
            raise AssertionError(f"buffer {b.id} at offset {off} is not {ALIGNMENT}-byte aligned")
    bufs = sorted(plan.buffers, key=lambda b: plan.offsets[b.id])
    for i, a in enumerate(bufs):
        a0, a1 = plan.offsets[a.id], plan.offsets[a.id] + a.size
        for b in bufs[i + 1 :]:
            b0 = plan.offsets[b.id]
            if b0 >= a1:
                break
            if (a.overlaps_in_time(b) and b0 < a1 and a0 < b0 + b.size
                    and not may_share(a, a0, b, b0)):
                raise AssertionError(
                    f"buffers {a.id} (tensors {a.tensors}) and {b.id} (tensors {b.tensors}) "
                    f"overlap in bytes and in time"
                )
