"""TFLM's ``GreedyMemoryPlanner``: buffers in order of decreasing size, each at the lowest offset
where it fits between the buffers already placed that are live at the same time (first fit)."""

from __future__ import annotations

from microforge.planner.plan import ArenaPlan, Buffer, align, peak_live_bytes


def place(buffers: list[Buffer], order: list[Buffer], best_fit: bool = False) -> dict[int, int]:
    """Place buffers in ``order``: first fit (TFLM) or best fit (the smallest gap that fits)."""
    placed: list[tuple[int, int, Buffer]] = []  # (offset, end, buffer), sorted by offset
    offsets: dict[int, int] = {}
    for buf in order:
        size = align(buf.size)
        live = [(o, e) for o, e, other in placed if other.overlaps_in_time(buf)]
        candidate, best_gap, cursor = None, None, 0
        for o, e in live:
            gap = o - cursor
            if gap >= size:
                if not best_fit:
                    candidate = cursor
                    break
                if best_gap is None or gap < best_gap:
                    candidate, best_gap = cursor, gap
            cursor = max(cursor, e)
        if candidate is None:
            candidate = cursor
        offsets[buf.id] = candidate
        placed.append((candidate, candidate + size, buf))
        placed.sort(key=lambda p: p[0])
    return offsets


def plan_greedy_by_size(buffers: list[Buffer]) -> ArenaPlan:
    """TFLM's strategy (for comparison): decreasing size, first fit."""
    order = sorted(buffers, key=lambda b: (-align(b.size), b.first, b.id))
    return ArenaPlan(buffers, place(buffers, order), "greedy-by-size (TFLM)",
                     peak_live_bytes(buffers))
