"""``microforge compile MODEL --target ethos-u*``: Vela's .tflite, the TFLM recipe, the --json
keys, the check of the CPU part, and one-line errors that leave no partial files."""

from __future__ import annotations

import json

import pytest

import microforge
from microforge import compiler
from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS

pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")

NPU_KEYS = {"npu_ops", "cpu_ops", "sram_bytes", "flash_bytes", "npu_cycles_estimate", "cpu_fallback"}


def test_compile_for_ethos_u_writes_velas_model_and_reports_the_keys(tmp_path):
    model = MODELS / "keyword_scrambled.tflite"
    code, out, err = cli("compile", model, "-o", tmp_path, "--target", "ethos-u55-128",
                         "--verify", "10", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert NPU_KEYS <= set(d) and {"arena_bytes", "ops", "verified"} <= set(d)
    assert d["target"] == "ethos-u55-128" and d["differing_bytes"] == 0 and d["verified"] == 10
    assert d["npu_ops"] + d["cpu_ops"] == len(d["ops"])
    assert {f["op"] for f in d["cpu_fallback"]} == {"SVDF", "QUANTIZE"}
    assert "AddEthosU" in d["npu"]["tflm_resolver"]
    assert d["npu"]["verification"].startswith("NPU operators: emulated")
    assert (tmp_path / "keyword_scrambled_vela.tflite").read_bytes()[4:8] == b"TFL3"
    assert "AddSvdf();" in (tmp_path / "keyword_scrambled_tflm.txt").read_text()
    code, out, err = cli("compile", model, "-o", tmp_path, "--target", "ethos-u65-256",
                         "--memory-mode", "Dedicated_Sram", "--system-config",
                         "Ethos_U65_High_End")
    assert code == 0, err
    assert "Ethos_U65_High_End, Dedicated_Sram" in out and "not checked" in out


def test_failure_after_writing_removes_the_partial_files(tmp_path, monkeypatch):
    def broken(npu, n, seed=0):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(compiler, "check_deployed", broken)
    with pytest.raises(RuntimeError):
        microforge.compile(MODELS / "hello_world_int8.tflite", tmp_path, target="ethos-u55-64",
                           verify=2)
    assert not any(p.suffix in (".tflite", ".txt") for p in tmp_path.iterdir())


def test_bad_vela_options_are_one_line(tmp_path):
    code, _, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", tmp_path,
                       "--target", "ethos-u55-128", "--system-config", "Nope")
    assert_one_line_error(code, err, 2, "Nope")
    assert not list(tmp_path.glob("*.tflite"))

