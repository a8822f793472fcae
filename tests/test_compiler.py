"""The compile driver (``microforge.compile``): one call from a model file to a verified library
and one CompileReport, the object the CLI prints."""

import json

import pytest

import microforge
from microforge.errors import InputError
from microforge.report.compile import compile_json, render_compile
from microforge.targets import TARGETS, BuildOptions, get_target
from tests.builders.cli import cli
from tests.oracle import MODELS


def test_compile_reports_what_the_cli_prints(tmp_path):
    model = MODELS / "hello_world_int8.tflite"
    report = microforge.compile(model, tmp_path / "api", verify=20)
    assert report.failure is None and report.differing_bytes == 0 and report.verified == 20
    assert report.name == "hello_world_int8" and report.target == "host"
    assert {op["backend"] for op in report.ops} == {"c"}
    assert report.ram_bytes == report.static_ram_bytes + report.stack_bytes_estimate
    assert "bit-exact" in render_compile(report)
    code, out, err = cli("compile", model, "-o", tmp_path / "cli", "--verify", "20", "--json")
    assert code == 0, err
    printed = json.loads(out)
    ours = json.loads(compile_json(report))
    for key in ("directory",):
        printed.pop(key), ours.pop(key)
    assert printed == ours


def test_compile_takes_a_graph(tmp_path):
    graph = microforge.load(MODELS / "hello_world_float.tflite").graph
    report = microforge.compile(graph, tmp_path / "g", name="hw", verify=5)
    assert report.name == "hw" and report.differing_bytes == 0


def test_targets_are_objects_with_their_own_rules():
    assert list(TARGETS) == ["host", "cortex-m4", "cortex-m7", "cortex-m55"]
    assert all(t.name == name for name, t in TARGETS.items())
    TARGETS["host"].check_options(BuildOptions(sanitize=True))
    with pytest.raises(InputError, match="--sanitize"):
        TARGETS["cortex-m4"].check_options(BuildOptions(sanitize=True))
    with pytest.raises(InputError, match="unknown target 'riscv'"):
        get_target("riscv")
