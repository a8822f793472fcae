"""The memory part of the report describes exactly the plans the C backend makes: the same
buffers in microforge's plan and TFLM's greedy plan, offsets and sizes as planned, per-step
live bytes and extents, and the in-place and view decisions."""

from __future__ import annotations

from microforge.backends.c.compiler import plan_memory
from microforge.frontends import read_model
from microforge.planner.plan import align
from microforge.report.html.memory import memory_view
from tests.builders.graphs import branched_int8
from tests.oracle import MODELS


def _view(name):
    g = plan_memory(read_model(MODELS / f"{name}.tflite"))
    return g, memory_view(g.layout, g.plan, g.tflm_style_plan, g.order, [s.summary() for s in g.stages])


def test_person_detect_plans_match_the_planner():
    g, view = _view("person_detect")
    mf, tflm = view["plans"]
    assert (mf["name"], tflm["name"]) == ("microforge", "TFLM greedy")
    assert mf["size"] == g.plan.size and tflm["size"] == g.tflm_style_plan.size
    assert mf["size"] < tflm["size"]  # in-place outputs and a patch stage against 55,296 B
    assert view["lower_bound"] == g.plan.lower_bound
    keys = [b["key"] for b in mf["buffers"]]
    stages = view["patch_stages"]  # their intermediates are never whole: not in the plan
    assert [(s["first"], s["last"]) for s in stages] == [(0, 3), (4, 7)]
    stage_scratch = {f"scratch-op{s['first']}" for s in stages}
    inside = {str(t) for t in range(len(g.graph.main.tensors))} - {
        str(min(b.tensors)) for b in g.plan.buffers if b.tensors} | {
        f"scratch-op{i}" for s in stages for i in range(s["first"], s["last"] + 1)}  # the stages'
    assert len(set(keys)) == len(keys) and stage_scratch <= set(keys)
    assert set(keys) - stage_scratch == {b["key"] for b in tflm["buffers"]} - inside
    for b in mf["buffers"]:
        assert b["offset"] + align(b["size"]) <= mf["size"]
    assert max(mf["extent"]) == mf["size"] and max(tflm["extent"]) == tflm["size"]
    assert len(tflm["live"]) == len(g.graph.main.operators) + sum(s["members"] - 1 for s in stages)
    assert max(mf["live"]) >= view["lower_bound"]
    overlapping = [x for x in view["in_place"] if x["overlaps"]]
    assert overlapping and all(any(b["in_place_of"] == x["input"] and b["key"] == x["buffer"]
                                   for b in mf["buffers"]) for x in overlapping)
    assert not any(b["in_place_of"] for b in tflm["buffers"])  # TFLM's planner has no in-place
    assert view["views"] == [29] and not view["reordered"]


def test_steps_cover_every_operator():
    """micro_speech: its depthwise layer and the FULLY_CONNECTED it feeds are one stage (one step
    of microforge's plan, model operators 1-2); TFLM's plan has a step per operator."""
    g, view = _view("micro_speech_quantized")
    (stage,) = view["patch_stages"]
    assert (stage["first"], stage["fully_connected"]) == (1, 2)
    assert view["steps"] == 3 and view["plans"][0]["order"] == [0, 1, 3]
    assert view["plans"][1]["order"] == [0, 1, 2, 3]
    for plan in view["plans"]:
        steps = len(plan["order"])
        assert len(plan["live"]) == len(plan["extent"]) == steps
        for b in plan["buffers"]:
            assert 0 <= b["first"] <= b["last"] < steps


def test_reordering_is_shown_with_each_plan_in_its_own_order():
    graph = branched_int8()
    g = plan_memory(graph)
    view = memory_view(g.layout, g.plan, g.tflm_style_plan, g.order)
    mf, tflm = view["plans"]
    assert view["reordered"] and mf["order"] == g.order != tflm["order"] == [0, 1, 2, 3, 4]
    wide_b = next(i for i, t in enumerate(graph.main.tensors) if t.name == "wide_b")
    in_mf = next(b for b in mf["buffers"] if wide_b in b["tensors"])
    in_tflm = next(b for b in tflm["buffers"] if wide_b in b["tensors"])
    assert in_mf["key"] == in_tflm["key"] == str(wide_b)
    # model operator 1 writes wide_b: step 1 in model order, a later step in microforge's order
    assert in_tflm["first"] == 1 and in_mf["first"] == g.order.index(1) > 1
    assert mf["size"] < tflm["size"]
