"""Patch-based execution: chains of convolutions run band by band of output rows are chosen when
they lower the arena, report their recomputation, and equal the Python runtime byte for byte on
the host (portable and SIMD builds) and on the Cortex-M4 under QEMU, over strides, paddings,
dilations, kernel heights and odd image heights."""

from __future__ import annotations

import pytest

from microforge.backends.c import patch
from microforge.backends.c.compiler import compile_model, generate
from microforge.ir.ops import count_macs
from microforge.planner.plan import verify_plan
from microforge.targets.host import verify
from tests.builders.c import BOTH_BUILDS
from tests.builders.mlperf_tiny import VALID, conv_chain, conv_fc

# (input shape, layers): the first layers are wide and high-resolution, so a stage pays off
CHAINS = {
    "stride2_same_odd": ((39, 20, 1), [dict(c_out=24, k=(3, 3)),
                                       dict(c_out=0, k=(3, 3), stride=2, depthwise=True),
                                       dict(c_out=8, k=(1, 1))]),
    "valid_5x5": ((41, 16, 2), [dict(c_out=24, k=(5, 5), padding=VALID),
                                dict(c_out=0, k=(3, 3), stride=2, depthwise=True, padding=VALID),
                                dict(c_out=8, k=(1, 1))]),
    "dilated": ((36, 18, 3), [dict(c_out=24, k=(3, 3), dilation=2),
                              dict(c_out=24, k=(1, 1)),
                              dict(c_out=8, k=(3, 3), stride=2)]),
    "tall_kernel_s2": ((45, 12, 1), [dict(c_out=32, k=(7, 3)),
                                     dict(c_out=0, k=(3, 3), stride=2, depthwise=True),
                                     dict(c_out=0, k=(3, 3), depthwise=True),
                                     dict(c_out=6, k=(1, 1))]),
}


def _graph(name):
    shape, layers = CHAINS[name]
    return conv_chain(shape, layers)


@pytest.fixture(params=["retain", "recompute"])
def split(request, monkeypatch):
    """Band splits that keep rows between bands (and recompute, if that is smaller), or only
    ones that recompute the overlapping rows."""
    if request.param == "recompute":
        monkeypatch.setattr(patch, "RETAIN", (False,))
    return request.param


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_stage_lowers_the_arena_and_reports_recomputation(name, split):
    graph = _graph(name)
    plain = generate(graph, "m", "test", patches=False)
    patched = generate(graph, "m", "test")
    verify_plan(patched.plan)
    assert patched.stages, "no stage chosen"
    assert patched.plan.size <= 0.95 * plain.plan.size
    summaries = [s.summary() for s in patched.stages]
    assert all(s["bands"] > 1 for s in summaries)
    assert all((s["extra_macs"] == 0) == s["retains_rows"] for s in summaries)
    if split == "recompute":
        assert not any(s["retains_rows"] for s in summaries)
    macs = sum(s["extra_macs"] for s in summaries)
    assert macs <= 0.1 * sum(count_macs(op, graph.main) for op in graph.main.operators)
    assert "MF_PATCH_STAGE" in patched.source.source


@pytest.mark.parametrize("name", sorted(CHAINS))
@BOTH_BUILDS
def test_stage_is_bit_exact_on_the_host(name, flags, split, tmp_path):
    graph = _graph(name)
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert compiled.stages
    result = verify(compiled.directory, "m", graph, 40, extra_flags=flags)
    assert result.ok, result.first_difference


def test_patching_can_be_turned_off(tmp_path):
    graph = _graph("stride2_same_odd")
    compiled = compile_model(graph, tmp_path / "lib", name="m", patches=False)
    assert not compiled.stages
    assert "MF_PATCH_STAGE" not in (tmp_path / "lib" / "m.c").read_text()


@pytest.mark.parametrize("target,dsp", [("cortex-m4", True), ("cortex-m4", False), ("cortex-m55", True)],
                         ids=["m4-dsp", "m4-portable", "m55-mve"])
def test_stages_are_bit_exact_on_cortex_m(target, dsp, split, tmp_path):
    """Every chain under QEMU with the DSP, portable and Helium kernels; person_detect's stages
    run in tests/targets/test_cortex_m.py (slow)."""
    from microforge.targets.cortex_m import firmware as cortex_m

    for name in sorted(CHAINS):
        graph = _graph(name)
        compiled = compile_model(graph, tmp_path / name, name="m")
        assert compiled.stages
        report = cortex_m.evaluate(compiled.directory, "m", graph, target, n=20, dsp=dsp)
        assert report.check.samples == 20
        assert report.check.differing_bytes == 0, (name, report.check.first_difference)


# (input shape, layers, classes, reshape): the last activation feeds a FULLY_CONNECTED, which a
# stage fuses (its sums accumulated band by band); micro_speech is the shared model of this shape
FC_CHAINS = {
    "dw_multiplier8_reshape": ((29, 20, 1), [dict(c_out=0, k=(10, 8), stride=2, depthwise=True,
                                                  multiplier=8)], 4, True),
    "conv_odd_no_reshape": ((23, 13, 3), [dict(c_out=5, k=(3, 3), stride=2)], 3, False),
    "valid_one_output": ((17, 11, 2), [dict(c_out=7, k=(5, 3), padding=VALID)], 1, True),
    "chain_with_recompute": ((26, 15, 1), [dict(c_out=12, k=(3, 3)),
                                           dict(c_out=0, k=(3, 3), stride=2, depthwise=True,
                                                padding=VALID),
                                           dict(c_out=9, k=(1, 1))], 6, True),
}


def _fc_graph(name):
    shape, layers, classes, reshape = FC_CHAINS[name]
    return conv_fc(shape, layers, classes, reshape)


@pytest.mark.parametrize("name", sorted(FC_CHAINS))
def test_fully_connected_tail_is_fused_when_it_lowers_the_arena(name):
    graph = _fc_graph(name)
    plain = generate(graph, "m", "test", patches=False)
    fused = generate(graph, "m", "test")
    verify_plan(fused.plan)
    assert [s.summary()["fully_connected"] for s in fused.stages] == [len(graph.main.operators) - 1]
    assert fused.plan.size <= 0.5 * plain.plan.size
    assert "mf_fc_s8_accumulate" in fused.source.source
    assert "mf_fully_connected_s8(" not in fused.source.source


@pytest.mark.parametrize("name", sorted(FC_CHAINS))
@BOTH_BUILDS
def test_fully_connected_tail_is_bit_exact_on_the_host(name, flags, tmp_path):
    graph = _fc_graph(name)
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert compiled.stages[0].tail is not None
    result = verify(compiled.directory, "m", graph, 60, extra_flags=flags)
    assert result.ok, result.first_difference


@pytest.mark.parametrize("target,dsp", [("cortex-m4", True), ("cortex-m4", False), ("cortex-m55", True)],
                         ids=["m4-dsp", "m4-portable", "m55-mve"])
def test_fully_connected_tail_is_bit_exact_on_cortex_m(target, dsp, tmp_path):
    """Every FC_CHAINS graph under QEMU with the DSP, portable and Helium accumulation."""
    from microforge.targets.cortex_m import firmware as cortex_m

    for name in sorted(FC_CHAINS):
        graph = _fc_graph(name)
        compiled = compile_model(graph, tmp_path / name, name="m")
        assert compiled.stages[0].tail is not None
        report = cortex_m.evaluate(compiled.directory, "m", graph, target, n=20, dsp=dsp)
        assert report.check.samples == 20
        assert report.check.differing_bytes == 0, (name, report.check.first_difference)


def test_an_activation_read_elsewhere_is_not_fused():
    graph = _fc_graph("conv_odd_no_reshape")
    fc = graph.main.operators[-1]
    sg = graph.main
    # a second reader of the convolution's output keeps it whole: no tail
    sg.outputs.append(fc.inputs[0])
    assert all(s.tail is None for s in generate(graph, "m", "test").stages)
