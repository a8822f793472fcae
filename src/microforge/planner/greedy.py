"""Placement of buffers in an arena, and TFLM's ``GreedyMemoryPlanner`` strategy.

``place`` puts buffers, in a given order, each at the lowest offset (first fit, as TFLM) or in the
tightest gap (best fit) where it conflicts with no buffer already placed that is live at the same
time, except the in-place input it may overlap within its kernel's safe shift.
"""

from __future__ import annotations

from microforge.planner.plan import ArenaPlan, Buffer, align, may_share, peak_live_bytes


def _fits(buf: Buffer, off: int, size: int, live: list[tuple[int, int, Buffer]]) -> bool:
    if off < 0:
        return False
    for o, e, other in live:
        if off < e and o < off + size and not may_share(buf, off, other, o):
            return False
    return True


def place(buffers: list[Buffer], order: list[Buffer], best_fit: bool = False) -> dict[int, int]:
    """Place buffers in ``order``: first fit (TFLM) or best fit (the smallest gap that fits)."""
    placed: list[tuple[int, int, Buffer]] = []  # (offset, end, buffer)
    offsets: dict[int, int] = {}
    for buf in order:
        size = align(buf.size)
        live = sorted(((o, e, other) for o, e, other in placed if other.overlaps_in_time(buf)),
                      key=lambda p: p[0])
        partner = [(o, other) for o, _, other in live
                   if other.id == buf.overlap_src or other.overlap_src == buf.id]
        if not partner:
            candidate, best_gap, cursor = None, None, 0
            for o, e, _ in live:
                gap = o - cursor
                if gap >= size:
                    if not best_fit:
                        candidate = cursor
                        break
                    if best_gap is None or gap < best_gap:
                        candidate, best_gap = cursor, gap
                cursor = max(cursor, e)
            offsets[buf.id] = cursor if candidate is None else candidate
        else:
            # An in-place pair: try the offsets where the pair's bound is tight, plus the gaps.
            points = {0} | {e for _, e, _ in live}
            for o, other in partner:
                if other.id == buf.overlap_src:
                    points.add(o + buf.overlap_shift)
                else:
                    points.add(o - other.overlap_shift)
            points |= {o - size for o, _, _ in live}
            valid = [p for p in sorted(points) if _fits(buf, p, size, live)]
            offsets[buf.id] = min(valid, key=lambda p: (p + size, p))
        placed.append((offsets[buf.id], offsets[buf.id] + size, buf))
    return offsets


def plan_greedy_by_size(buffers: list[Buffer]) -> ArenaPlan:
    """TFLM's strategy (for comparison): decreasing size, first fit, no in-place overlap."""
    plain = [Buffer(b.id, b.size, b.first, b.last, b.tensors, b.scratch_of) for b in buffers]
    order = sorted(plain, key=lambda b: (-align(b.size), b.first, b.id))
    return ArenaPlan(buffers, place(plain, order), "greedy-by-size (TFLM)", peak_live_bytes(plain))
