"""Vela as a library: placement, Vela's reasons, per-operator cycles and the CPU part's check.

Every expected value comes from Vela itself (its report and its .tflite) or from the numpy
runtime; the tests check that microforge reads them consistently. Vela compiles these models in
well under a second each.
"""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.backends.ethos_u import EthosUBackend, VelaConfig, compile_npu
from microforge.backends.ethos_u.check import check_cpu_part
from microforge.backends.ethos_u.memory import ETHOS_U, offline_offsets
from microforge.backends.ethos_u.vela import MISSING_VELA, run_vela
from microforge.errors import InputError, ModelError, ToolError, UnsupportedOpError
from microforge.frontends import read_model
from microforge.passes.partition import partition
from tests.builders.graphs import conv_bn
from tests.oracle import MODELS

pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")

SHARED = ["hello_world_int8", "micro_speech_quantized", "keyword_scrambled", "person_detect"]
CONFIGS = ["ethos-u55-128", "ethos-u65-256"]


def _npu(model: str, accelerator: str):
    path = MODELS / f"{model}.tflite"
    return compile_npu(read_model(path), VelaConfig(accelerator), path.read_bytes())


@pytest.mark.parametrize("accelerator", CONFIGS + ["ethos-u85-256"])
@pytest.mark.parametrize("model", SHARED)
def test_placement_matches_velas_tflite_and_cycles(model, accelerator):
    npu = _npu(model, accelerator)
    opt = npu.optimized.main
    assert len(npu.ops) == len(npu.graph.main.operators)
    cpu_in_vela = [op.opcode for op in opt.operators if op.opcode != ETHOS_U]
    assert [p.opcode for p in npu.ops if p.target == "cpu"] == cpu_in_vela
    # every cycle of Vela's whole-model estimate belongs to one original operator
    assert sum(p.cycles for p in npu.ops) == npu.vela.total_cycles > 0
    assert all(p.reason for p in npu.ops if p.target == "cpu")
    assert not any(p.reason or p.cycles == 0 and p.opcode != "RESHAPE"
                   for p in npu.ops if p.target == "npu")
    # each ethos-u operator: command stream, flash, scratch, fast scratch, then its inputs
    for i in npu.subgraph_ops():
        op = opt.operators[i]
        assert opt.tensors[op.inputs[0]].data is not None
        assert opt.tensors[op.inputs[1]].data is not None
    split = npu.flash_split()
    assert split["command_stream"] > 0 and split["encoded_weights"] > 0
    # Vela's region (scratch) starts the arena and holds every offline-planned tensor
    offsets = offline_offsets(npu.optimized)
    assert npu.memory.plan.offsets[0] == 0
    assert all(off + opt.tensors[t].nbytes <= npu.memory.region for t, off in offsets.items())


@pytest.mark.parametrize("accelerator", CONFIGS)
@pytest.mark.parametrize("model", SHARED)
def test_cpu_part_is_bit_exact_with_the_npu_fed_by_the_original_operators(model, accelerator):
    check = check_cpu_part(_npu(model, accelerator), 6)
    assert check.ok and check.samples >= 6 and check.npu_outputs_fed >= 1


def test_svdf_falls_back_with_velas_reason_and_its_cpu_part_is_bit_exact():
    npu = _npu("keyword_scrambled", "ethos-u55-128")
    svdf = [p for p in npu.ops if p.opcode == "SVDF"]
    assert svdf and all(p.target == "cpu" and "Unsupported" in p.reason for p in svdf)
    assert npu.cpu_fallback[0]["op"] == "SVDF" and npu.cpu_fallback[0]["reason"]
    backend = EthosUBackend(VelaConfig("ethos-u55-128"))
    assigned = partition(npu.graph, (backend, *microforge.backends.BACKENDS))
    assert assigned.ops_of("c") == [p.index for p in npu.ops if p.target == "cpu"]
    assert "Unsupported opType" in backend.supports(npu.graph, svdf[0].index)
    check = check_cpu_part(npu, 20)
    assert check.ok and check.npu_outputs_fed == len(npu.subgraph_ops())


def test_a_float_model_stays_on_the_cpu_and_runs_there():
    npu = _npu("hello_world_float", "ethos-u55-128")
    assert npu.npu_ops == 0 and npu.cpu_ops == 3 and not npu.subgraph_ops()
    assert check_cpu_part(npu, 8).ok


def _built_int8():
    float_graph = conv_bn("CONV_2D", activation="RELU")
    rng = np.random.default_rng(0)
    calib = rng.normal(size=(16, 1, 5, 5, 4)).astype(np.float32)
    return microforge.quantize(float_graph, calib[:, 0]).graph


@pytest.mark.parametrize("accelerator", CONFIGS)
def test_a_model_built_in_the_tests_goes_to_the_npu(accelerator):
    graph = _built_int8()
    npu = compile_npu(graph, VelaConfig(accelerator))
    assert npu.npu_ops == len(graph.main.operators) and npu.cpu_ops == 0
    assert check_cpu_part(npu, 8).ok


def test_vela_errors_are_one_line():
    with pytest.raises(InputError, match="ethos-u99-1"):
        run_vela((MODELS / "hello_world_int8.tflite").read_bytes(), VelaConfig("ethos-u99-1"))
    with pytest.raises(ModelError, match="Vela compiles .tflite models only"):
        run_vela(b"\x00" * 64, VelaConfig("ethos-u55-128"))
    for bad in (VelaConfig("ethos-u55-128", system_config="No_Such_System"),
                VelaConfig("ethos-u55-128", memory_mode="No_Such_Mode")):
        with pytest.raises(InputError, match="No_Such") as e:
            run_vela((MODELS / "hello_world_int8.tflite").read_bytes(), bad)
        assert "\n" not in str(e.value)


def test_missing_vela_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ethosu", None)
    monkeypatch.setitem(sys.modules, "ethosu.vela", None)
    with pytest.raises(ToolError) as e:
        run_vela(b"new bytes, not cached", VelaConfig("ethos-u55-128"))
    assert str(e.value) == MISSING_VELA


def test_an_operator_without_a_c_kernel_on_the_cpu_is_refused():
    npu = _npu("keyword_scrambled", "ethos-u55-128")

    class NoSvdf:
        name = "c"

        def supports(self, graph, index):
            return "no C kernel" if graph.main.operators[index].opcode == "SVDF" else None

    backend = EthosUBackend(VelaConfig("ethos-u55-128"))
    with pytest.raises(UnsupportedOpError, match="no C kernel"):
        partition(npu.graph, (backend, NoSvdf()))


def test_the_fallback_check_skips_the_states_vela_writes_back_in_its_region():
    """trained_lstm_int8: Vela lists the LSTM states it updates (one per time step) among its NPU
    subgraph's outputs; no CPU operator reads them, so the fallback check feeds only the model's
    output (it used to stop with "... match no tensor of the original")."""
    npu = _npu("trained_lstm_int8", "ethos-u55-128")
    sg = npu.optimized.main
    assert len(sg.operators[npu.subgraph_ops()[0]].outputs) > 1
    check = check_cpu_part(npu, 4)
    assert check.ok and check.npu_outputs_fed == 1
