"""microforge's planner: several placement orders with best fit, an exact search when the graph is
small, keeping the smallest arena. In-place pairs may overlap within their kernels' safe shifts.
A plan equal to the lower bound (the peak of simultaneously live bytes, counting an in-place pair's
overlap) is optimal and ends the search.

Chains of in-place pairs whose kernels need the output *below* the input (a depthwise or 3x3
convolution writes behind its read window) drift down the arena as they go: the orders include
one from the last operator backwards, which lets such a chain climb from offset 0 instead, and a
search over the orders of the buffers live at the peak step (placed first, the rest after them),
which finds the stacking a residual block needs (the shortcut above the convolution pair that
writes below its input)."""

from __future__ import annotations

import itertools

from microforge.planner.greedy import place
from microforge.planner.plan import ArenaPlan, Buffer, align, live_bytes_by_step, peak_live_bytes

EXACT_SEARCH_MAX_BUFFERS = 7
PEAK_SEARCH_MAX_BUFFERS = 6


def _size(plan_offsets: dict[int, int], buffers: list[Buffer]) -> int:
    return max((plan_offsets[b.id] + align(b.size) for b in buffers), default=0)


def _orders(buffers: list[Buffer]) -> dict[str, list[Buffer]]:
    return {
        "size": sorted(buffers, key=lambda b: (-align(b.size), b.first, b.id)),
        "area": sorted(buffers, key=lambda b: (-align(b.size) * (b.last - b.first + 1), b.id)),
        "start": sorted(buffers, key=lambda b: (b.first, -align(b.size), b.id)),
        "duration": sorted(buffers, key=lambda b: (-(b.last - b.first), -align(b.size), b.id)),
        "end": sorted(buffers, key=lambda b: (-b.last, -b.first, -align(b.size), b.id)),
    }


def plan_best(buffers: list[Buffer]) -> ArenaPlan:
    bound = peak_live_bytes(buffers)
    if not buffers:
        return ArenaPlan(buffers, {}, "empty", 0)
    best: tuple[int, dict[int, int], str] | None = None

    def attempt(order: list[Buffer], name: str, fit: bool = True) -> bool:
        nonlocal best
        offsets = place(buffers, order, best_fit=fit)
        size = _size(offsets, buffers)
        if best is None or size < best[0]:
            best = (size, offsets, name)
        return best[0] == bound

    orders = _orders(buffers)
    for name, order in orders.items():
        for fit in (True, False):
            if attempt(order, f"{'best' if fit else 'first'}-fit by {name}", fit):
                return ArenaPlan(buffers, best[1], best[2], bound)
    if len(buffers) <= EXACT_SEARCH_MAX_BUFFERS:
        for perm in itertools.permutations(buffers):
            if attempt(list(perm), "exact search"):
                break
        return ArenaPlan(buffers, best[1], best[2], bound)
    _peak_search(buffers, orders, attempt)
    return ArenaPlan(buffers, best[1], best[2], bound)


def _peak_search(buffers: list[Buffer], orders: dict[str, list[Buffer]], attempt) -> None:
    """Every order of the buffers live at the busiest step, placed first; the rest follow in each
    base order."""
    live = live_bytes_by_step(buffers)
    step = max(range(len(live)), key=lambda t: (live[t], -t))
    peak = [b for b in buffers if b.first <= step <= b.last]
    if len(peak) > PEAK_SEARCH_MAX_BUFFERS:
        return
    ids = {b.id for b in peak}
    for name, order in orders.items():
        rest = [b for b in order if b.id not in ids]
        for perm in itertools.permutations(peak):
            if attempt(list(perm) + rest, f"peak search, then by {name}"):
                return
