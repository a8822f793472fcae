"""What the report says about a model: per-operator MACs and weight bytes as ``inspect`` counts
them, weight statistics and per-channel scales, arena offsets from both plans, placement and
instruction estimates from a CompileReport when there is one (an NPU backend's rows included)."""

from __future__ import annotations

import numpy as np

from microforge.backends import CompileReport
from microforge.frontends import read_model
from microforge.report.html import report_data
from microforge.report.summary import summarize
from tests.oracle import MODELS


def _report(**fields) -> CompileReport:
    base = dict(name="m", directory="d", files=[], target="cortex-m4", arena_bytes=0,
                arena_lower_bound_bytes=0, arena_tflm_strategy_bytes=0, planner="p", state_bytes=0,
                static_ram_bytes=0, stack_bytes_estimate=0, ram_bytes=0, const_bytes=0, code_bytes=0,
                io_bytes=0, macs=0)
    return CompileReport(**{**base, **fields})


def test_person_detect_facts_match_inspect():
    graph = read_model(MODELS / "person_detect.tflite")
    data = report_data(graph, title="pd")
    summary = summarize(graph)
    assert [op["macs"] for op in data["operators"]] == [op.macs for op in summary.operators]
    assert [op["weight_bytes"] for op in data["operators"]] == [op.weight_bytes for op in summary.operators]
    assert {op["kind"] for op in data["operators"]} == {"CPU"}
    assert data["instructions"]["total"] is None and "--target" in data["instructions"]["source"]
    conv = data["operators"][2]
    w = next(x for x in conv["weights"] if data["tensors"][x["tensor"]]["quant"].get("channels"))
    t = graph.main.tensors[w["tensor"]]
    assert w["stored"]["min"] == t.data.min() and w["stored"]["max"] == t.data.max()
    zp, scale = t.quant.zero_point.reshape(-1, 1, 1, 1), t.quant.scale.reshape(-1, 1, 1, 1)
    real = (t.data.astype(np.float64) - zp) * scale
    assert np.isclose(w["real"]["std"], real.std()) and np.isclose(w["real"]["mean"], real.mean())
    q = data["tensors"][w["tensor"]]["quant"]
    assert q["scale_min"] == float(t.quant.scale.min()) and q["channels"] == t.quant.scale.size
    out = data["tensors"][conv["outputs"][0]]  # inside the patch stage (ops 0-3): never whole
    assert set(out["arena"]) == {"TFLM greedy"}
    after = data["tensors"][data["operators"][8]["outputs"][0]]  # after the stage of ops 4-7
    assert set(after["arena"]) == {"microforge", "TFLM greedy"}
    assert len(data["graph"]["nodes"]) == len(graph.main.operators) + 2  # + one input, one output


def test_compile_report_supplies_backend_npu_cycles_and_instructions():
    graph = read_model(MODELS / "micro_speech_quantized.tflite")
    firmware = {"target": "cortex-m4", "board": "mps2-an386", "instructions_per_inference": {"mean": 1000}}
    rows = [{"model_index": 0, "backend": "c"}, {"model_index": 1, "backend": "ethos_u", "npu_cycles": 777},
            {"model_index": 2, "backend": "c"}, {"model_index": 3, "backend": "c"}]
    data = report_data(graph, title="ms", compile_report=_report(ops=rows, firmware=firmware))
    ops = data["operators"]
    assert [op["kind"] for op in ops] == ["CPU", "NPU", "CPU", "CPU"]
    assert ops[1]["npu_cycles"] == 777 and data["npu"]
    assert ops[1]["instructions"] is None  # the NPU runs it; QEMU's count is the CPU's
    cpu_macs = sum(op["macs"] for op in ops if op["kind"] == "CPU")
    for op in ops:
        if op["kind"] == "CPU":
            assert op["instructions"] == round(1000 * op["macs"] / cpu_macs)
    assert data["summary"]["instructions / inference"] == "1,000"


def test_an_ethos_u_compile_places_operators_and_gives_their_cycles(tmp_path):
    import pytest

    pytest.importorskip("ethosu.vela", reason="needs ethos-u-vela: pip install 'microforge[npu]'")
    from microforge.compiler import compile

    report = compile(MODELS / "person_detect.tflite", tmp_path / "npu", target="ethos-u55-128")
    graph = read_model(MODELS / "person_detect.tflite")
    data = report_data(graph, title="pd", target="ethos-u55-128", compile_report=report)
    ops = data["operators"]
    for op, row in zip(ops, report.ops):
        assert op["kind"] == ("NPU" if row["target"] == "npu" else "CPU")
        assert op["npu_cycles"] == (row["npu_cycles"] if row["target"] == "npu" else None)
        assert op["reason"] == row["reason"]
    assert data["npu"] and any(op["kind"] == "NPU" for op in ops)
    assert data["summary"]["NPU cycles (Vela estimate)"] == f"{report.npu['npu_cycles_estimate']:,}"
    assert "ethos-u55-128 build plans one arena" in data["memory"]["note"]
