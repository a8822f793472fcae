"""The memory-plan part of the HTML report: microforge's arena plan (in its execution order) and
TFLM's greedy-by-size plan (``planner.greedy``, in model order) of the same buffers, each buffer
with its lifetime and offset, the bytes live and the arena extent at each step, and the planner's
decisions: in-place outputs, views (no copy) and the operator order (``planner.schedule``)."""

from __future__ import annotations

from microforge.planner.lifetimes import MemoryLayout
from microforge.planner.plan import ArenaPlan, Buffer, align


def buffer_key(b: Buffer, order: list[int]) -> str:
    """A buffer's name in the page (``data-buffer``): the index of its first tensor, or
    ``scratch-op N`` (N in model order) for an operator's scratch."""
    if b.scratch_of is not None:
        return f"scratch-op{order[b.scratch_of]}"
    return str(min(b.tensors)) if b.tensors else f"buffer{b.id}"


def _plan(plan: ArenaPlan, order: list[int], name: str, steps: int) -> dict:
    overlapping = plan.overlapping()
    by_id = {b.id: b for b in plan.buffers}
    buffers = []
    for b in sorted(plan.buffers, key=lambda b: (plan.offsets[b.id], b.first)):
        src = by_id.get(b.overlap_src) if b.overlap_src is not None else None
        buffers.append({
            "key": buffer_key(b, order), "size": int(b.size), "first": b.first, "last": b.last,
            "offset": int(plan.offsets[b.id]), "tensors": list(b.tensors),
            "scratch": b.scratch_of is not None,
            "in_place_of": buffer_key(src, order) if src is not None and b.id in overlapping else None,
        })
    live, extent = [], []
    for s in range(steps):
        now = [b for b in plan.buffers if b.first <= s <= b.last]
        live.append(sum(align(b.size) for b in now))
        extent.append(max((plan.offsets[b.id] + align(b.size) for b in now), default=0))
    return {"name": name, "strategy": plan.strategy, "size": int(plan.size), "order": order,
            "buffers": buffers, "live": live, "extent": extent}


def memory_view(layout: MemoryLayout, plan: ArenaPlan, tflm_plan: ArenaPlan, order: list[int],
                stages: list[dict] | None = None) -> dict:
    """Both plans and the decisions behind microforge's (``order[k]`` = the model operator run at
    step k; a patch stage, ``stages``, is one step, so microforge's plan may have fewer steps than
    TFLM's, which has one per model operator)."""
    steps = len(order)
    natural = list(range(max(steps, max((b.last + 1 for b in tflm_plan.buffers), default=0))))
    overlapping = plan.overlapping()
    by_id = {b.id: b for b in plan.buffers}
    in_place = [{"step": s, "op": order[s], "buffer": buffer_key(by_id[dst], order),
                 "input": buffer_key(by_id[by_id[dst].overlap_src], order),
                 "shift": by_id[dst].overlap_shift, "overlaps": dst in overlapping}
                for s, dst in sorted(layout.inplace.items())]
    return {
        "steps": steps, "lower_bound": int(plan.lower_bound),
        "reordered": order != sorted(order),
        "views": sorted(order[s] for s in layout.views),
        "in_place": in_place,
        "patch_stages": list(stages or []),
        "plans": [_plan(plan, order, "microforge", steps),
                  _plan(tflm_plan, natural, "TFLM greedy", len(natural))],
    }
