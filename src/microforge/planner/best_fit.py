"""microforge's planner: several placement orders with best fit, an exact search when the graph is
small, keeping the smallest arena. In-place pairs may overlap within their kernels' safe shifts.
A plan equal to the lower bound (the peak of simultaneously live bytes, counting an in-place pair's
overlap) is optimal and ends the search."""

from __future__ import annotations

import itertools

from microforge.planner.greedy import place
from microforge.planner.plan import ArenaPlan, Buffer, align, peak_live_bytes

EXACT_SEARCH_MAX_BUFFERS = 7


def _size(plan_offsets: dict[int, int], buffers: list[Buffer]) -> int:
    return max((plan_offsets[b.id] + align(b.size) for b in buffers), default=0)


def plan_best(buffers: list[Buffer]) -> ArenaPlan:
    bound = peak_live_bytes(buffers)
    orders = {
        "size": sorted(buffers, key=lambda b: (-align(b.size), b.first, b.id)),
        "area": sorted(buffers, key=lambda b: (-align(b.size) * (b.last - b.first + 1), b.id)),
        "start": sorted(buffers, key=lambda b: (b.first, -align(b.size), b.id)),
        "duration": sorted(buffers, key=lambda b: (-(b.last - b.first), -align(b.size), b.id)),
    }
    best: tuple[int, dict[int, int], str] | None = None
    for name, order in orders.items():
        for fit in (True, False):
            offsets = place(buffers, order, best_fit=fit)
            size = _size(offsets, buffers)
            if best is None or size < best[0]:
                best = (size, offsets, f"{'best' if fit else 'first'}-fit by {name}")
    assert best is not None or not buffers
    if best is None:
        return ArenaPlan(buffers, {}, "empty", 0)
    if best[0] > bound and len(buffers) <= EXACT_SEARCH_MAX_BUFFERS:
        for perm in itertools.permutations(buffers):
            offsets = place(buffers, list(perm), best_fit=True)
            size = _size(offsets, buffers)
            if size < best[0]:
                best = (size, offsets, "exact search")
                if size == bound:
                    break
    return ArenaPlan(buffers, best[1], best[2], bound)
