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

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


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


def peak_live_bytes(buffers: list[Buffer]) -> int:
    """The largest sum of live buffer sizes at any operator: no plan can be smaller."""
    if not buffers:
        return 0
    steps = max(b.last for b in buffers) + 1
    return max(
        sum(align(b.size) for b in buffers if b.first <= t <= b.last) for t in range(steps)
    )


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
            if a.overlaps_in_time(b) and b0 < a1 and a0 < b0 + b.size:
                raise AssertionError(
                    f"buffers {a.id} (tensors {a.tensors}) and {b.id} (tensors {b.tensors}) "
                    f"overlap in bytes and in time"
                )
