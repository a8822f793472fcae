"""``microforge inspect MODEL --target ethos-u*``: placement and Vela's reasons before compiling."""

from __future__ import annotations

import json

import pytest

from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS

pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")


def test_inspect_shows_placement_and_reasons():
    model = MODELS / "keyword_scrambled.tflite"
    code, out, err = cli("inspect", model, "--target", "ethos-u55-128")
    assert code == 0, err
    assert "on the CPU" in out and "Unsupported opType" in out and "AddEthosU" in out
    code, out, err = cli("inspect", model, "--target", "ethos-u55-128", "--json")
    d = json.loads(out)
    assert d["cpu_ops"] == len(d["cpu_fallback"]) and d["npu_cycles_estimate"] > 0
    assert all(f["reason"] for f in d["cpu_fallback"]) and "operators" in d


def test_inspect_refuses_a_target_that_is_not_an_npu():
    code, _, err = cli("inspect", MODELS / "hello_world_int8.tflite", "--target", "cortex-m55")
    assert_one_line_error(code, err, 2, "Ethos-U")
