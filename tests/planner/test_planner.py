"""Memory planner: plans never overlap live buffers, reach the lower bound where the tests know it,
and microforge's planner is never worse than TFLM's greedy strategy."""

import itertools

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.planner import Buffer, verify_plan
from microforge.planner.best_fit import plan_best
from microforge.planner.greedy import plan_greedy_by_size
from microforge.planner.lifetimes import OpMemory, layout_memory
from microforge.planner.plan import ArenaPlan
from tests.oracle import MODELS

ALL_MODELS = sorted(p.name for p in MODELS.glob("*.tflite"))


def _layout(name):
    graph = read_tflite(MODELS / name)
    sg = graph.main
    mem = [OpMemory(view=op.opcode in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")) for op in sg.operators]
    return sg, layout_memory(sg, mem)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_plans_never_overlap_on_every_model(name):
    _, layout = _layout(name)
    for plan in (plan_greedy_by_size(layout.buffers), plan_best(layout.buffers)):
        verify_plan(plan)
        assert plan.size >= plan.lower_bound
    assert plan_best(layout.buffers).size <= plan_greedy_by_size(layout.buffers).size


def test_person_detect_reaches_the_lower_bound():
    _, layout = _layout("person_detect.tflite")
    plan = plan_best(layout.buffers)
    assert plan.size == plan.lower_bound == 55296  # conv 48x48x8 -> 48x48x16, both live


def test_views_share_bytes_with_their_input():
    sg, layout = _layout("micro_speech_quantized.tflite")
    reshape = sg.operators[0]
    assert 0 in layout.views
    assert layout.storage[reshape.outputs[0]] == layout.storage[reshape.inputs[0]]


def test_verify_plan_catches_overlap():
    a, b = Buffer(0, 64, 0, 2), Buffer(1, 64, 1, 3)
    with pytest.raises(AssertionError):
        verify_plan(ArenaPlan([a, b], {0: 0, 1: 32}, "bad"))
    verify_plan(ArenaPlan([a, b], {0: 0, 1: 64}, "good"))


def test_best_fit_is_optimal_on_small_random_problems():
    rng = np.random.default_rng(0)
    for _ in range(30):
        bufs = []
        for i in range(6):
            first = int(rng.integers(0, 6))
            bufs.append(Buffer(i, int(rng.integers(1, 40)) * 8, first, first + int(rng.integers(0, 3))))
        plan = plan_best(bufs)
        verify_plan(plan)
        best = min(
            max(o + b.size for o, b in zip(offsets, bufs))
            for offsets in _all_first_fit(bufs)
        )
        assert plan.size <= best


def _all_first_fit(bufs):
    from microforge.planner.greedy import place

    for perm in itertools.permutations(bufs):
        offsets = place(bufs, list(perm), best_fit=True)
        yield [offsets[b.id] for b in bufs]


def test_inplace_operator_shares_its_dying_input():
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()
    x = b.input("x", (1, 64), np.int8, 0.1, 0)
    h = b.tensor("h", (1, 64), np.int8, 0.1, 0)
    y = b.tensor("y", (1, 64), np.int8, 1 / 256, -128)
    z = b.tensor("z", (1, 64), np.int8, 0.1, 0)
    b.op("RELU", [x], [h])
    b.op("LOGISTIC", [h], [y])
    b.op("RELU", [y], [z])
    b.output(z)
    sg = b.build().main
    layout = layout_memory(sg, [OpMemory(inplace=True)] * 3)
    assert set(layout.inplace) == {1}  # op 0 reads the caller's input, op 2 writes the caller's output
    plan = plan_best(layout.buffers)
    verify_plan(plan)
    assert plan.size == 64 and plan.overlapping() == {layout.inplace[1]}


def test_inplace_shift_is_respected():
    src = Buffer(0, 800, 0, 1)
    dst = Buffer(1, 1600, 1, 2, overlap_src=0, overlap_shift=-800)  # a growing pointwise layer
    plan = plan_best([src, dst])
    verify_plan(plan)
    assert plan.offsets[1] - plan.offsets[0] <= -800 and plan.size == 1600
    with pytest.raises(AssertionError):
        verify_plan(ArenaPlan([src, dst], {0: 0, 1: 0}, "too little shift"))


def test_person_detect_runs_in_place():
    """Depthwise/pointwise layers overlap their inputs: without patch stages the arena is the
    largest single activation (48x48x16) plus a 32-byte kernel scratch, far below layer-by-layer
    planning (55,296 + 32 bytes)."""
    from microforge.backends.c.compiler import generate

    graph = read_tflite(MODELS / "person_detect.tflite")
    g = generate(graph, "pd", "test", patches=False)
    plan, tflm_plan = g.plan, g.tflm_style_plan
    verify_plan(plan)
    assert plan.size == 36864 + 32 and tflm_plan.size == 55296 + 32


def residual_graph():
    """x -> RELU -> h; ADD(h, RELU(h)) -> a, then ADD(h, a): the second ADD's input 0 (h) lives
    on until it, but input 1 dies at the first ADD's consumer."""
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()
    x = b.input("x", (1, 64), np.int8, 0.1, 0)
    h, r, a, y = (b.tensor(n, (1, 64), np.int8, 0.1, 0) for n in ("h", "r", "a", "y"))
    b.op("RELU", [x], [h])
    b.op("RELU", [h], [r])
    b.op("ADD", [h, r], [a], fused_activation_function=0)
    b.op("ADD", [h, a], [y], fused_activation_function=0)
    b.output(y)
    return b.build()


def test_add_runs_in_place_over_whichever_input_dies():
    """ADD(h, r) where h lives on: the output takes r's bytes (input 1), not a third buffer."""
    sg = residual_graph().main
    mem = [OpMemory(inplace=True), OpMemory(inplace=True),
           OpMemory(inplace=True, inplace_inputs=(0, 1)), OpMemory(inplace=True, inplace_inputs=(0, 1))]
    layout = layout_memory(sg, mem)
    assert set(layout.inplace) == {2}
    dst = layout.buffers[layout.inplace[2]]
    assert dst.overlap_src == layout.storage[sg.operators[2].inputs[1]].index
    plan = plan_best(layout.buffers)
    verify_plan(plan)
    assert plan.size == 128  # h and r|a: two buffers, not three
    only_first = layout_memory(sg, [OpMemory(inplace=True)] * 4)
    assert plan_best(only_first.buffers).size == 192


def test_residual_add_in_place_is_bit_exact(tmp_path):
    from tests.builders.c import check

    check(residual_graph(), tmp_path / "lib")


def test_peak_search_stacks_a_residual_block():
    """x live across a block whose 3x3 convolution writes 528 bytes below its input: the
    lower bound needs x above the in-place pair, which only the peak search finds."""
    x = Buffer(0, 16384, 0, 3)
    y1 = Buffer(1, 16384, 1, 2)
    y2 = Buffer(2, 16384, 2, 3, overlap_src=1, overlap_shift=-528)
    scratch = Buffer(3, 576, 2, 2, scratch_of=2)
    out = Buffer(4, 16384, 3, 4, overlap_src=2, overlap_shift=0)
    plan = plan_best([x, y1, y2, scratch, out, Buffer(5, 8192, 4, 5), Buffer(6, 8192, 5, 6),
                      Buffer(7, 64, 6, 6)])
    verify_plan(plan)
    assert plan.size == plan.lower_bound == 16384 * 2 + 528 + 576


def test_in_place_chain_drifting_down_climbs_from_zero():
    """Depthwise layers each writing 384 bytes below their input (DS-CNN): the chain needs only
    its total drift above one activation."""
    bufs = [Buffer(0, 8000, 0, 1)]
    for i in range(1, 9):
        shift = -384 if i % 2 else 0
        bufs.append(Buffer(i, 8000, i, i + 1, overlap_src=i - 1, overlap_shift=shift))
    plan = plan_best(bufs)
    verify_plan(plan)
    assert plan.size == 8000 + 4 * 384


def test_inplace_shift_is_rounded_down_to_the_alignment():
    """A kernel's safe shift that is not a multiple of 8 (-108: a 12-channel depthwise row) is used
    rounded down (-112), so every offset stays 8-byte aligned."""
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()
    x = b.input("x", (1, 108), np.int8, 0.1, 0)
    h, y, z = (b.tensor(n, (1, 108), np.int8, 0.1, 0) for n in ("h", "y", "z"))
    b.op("RELU", [x], [h])
    b.op("RELU", [h], [y])
    b.op("RELU", [y], [z])
    b.output(z)
    sg = b.build().main
    layout = layout_memory(sg, [OpMemory(inplace=True, inplace_shift=-108)] * 3)
    dst = layout.buffers[layout.inplace[1]]
    assert dst.overlap_shift == -112
    verify_plan(plan_best(layout.buffers))


@pytest.mark.parametrize("channels", [3, 5, 12, 68])
def test_conv_depthwise_chain_in_place_aligned_and_bit_exact(channels, tmp_path):
    """conv 1x1 -> depthwise -> depthwise with channel counts whose rows are not multiples of 8
    bytes: the depthwise layer still runs in place, the plan is aligned, the host C bit-exact
    (without patch stages, which would run the chain band by band instead)."""
    from microforge.backends.c.compiler import generate
    from tests.builders.c import check
    from tests.builders.conv_edges import inplace_chain

    graph = inplace_chain(channels).build()
    plan = generate(graph, "chain", "test", patches=False).plan
    verify_plan(plan)
    assert plan.overlapping()
    check(graph, tmp_path / "lib", n=20, patches=False)
