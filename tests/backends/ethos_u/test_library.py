"""The Ethos-U C library: built against a test stand-in of the driver's declared interface
(``tests/builders/ethos_u_stand_in/``), on the host under ASan/UBSan and for Cortex-M55 under
QEMU. The stand-in checks the bytes each NPU subgraph finds in Vela's region and writes the bytes
the numpy runtime computes for the original operators it replaces; the CPU operators (SVDF and
the final QUANTIZE of keyword_scrambled) run in the generated C, and every output byte must equal
the runtime's for the original model."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

import microforge
from microforge.backends.ethos_u import VelaConfig, compile_npu
from microforge.backends.ethos_u.library import write_npu_library
from microforge.errors import InputError, ModelError
from microforge.frontends import read_model
from microforge.targets import BuildOptions
from microforge.targets.cortex_m import firmware
from microforge.targets.host import verify
from tests.builders.cli import cli
from tests.builders.npu import STAND_IN, with_stand_in
from tests.oracle import MODELS

pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")

MODELS_UNDER_TEST = ["hello_world_int8", "keyword_scrambled"]  # all NPU; SVDF on the CPU
# + an LSTM whose states Vela keeps in its region (NAME_reset restores them there)
HOST_MODELS = MODELS_UNDER_TEST + ["trained_lstm_int8"]


def _library(model: str, accelerator: str, tmp_path):
    path = MODELS / f"{model}.tflite"
    npu = compile_npu(read_model(path), VelaConfig(accelerator), path.read_bytes())
    lib = write_npu_library(npu, tmp_path / "lib", model, path.name)
    return npu, lib


@pytest.mark.parametrize("accelerator", ["ethos-u55-128", "ethos-u65-256"])
@pytest.mark.parametrize("model", HOST_MODELS)
def test_host_build_with_the_stand_in_is_bit_exact_under_the_sanitizers(model, accelerator, tmp_path):
    npu, lib = _library(model, accelerator, tmp_path)
    work = with_stand_in(lib.directory, tmp_path / "host", npu, 20)
    check = verify(work, model, npu.graph, 20, sanitize=True)
    assert check.ok and check.samples == 20, check.first_difference


@pytest.mark.slow
def test_a_subgraph_without_weights_gets_an_empty_flash(tmp_path):
    """simple_add_model's one ADD has no weights: Vela gives its subgraph a flash tensor of 0
    bytes without a buffer; base address 0 is an aligned placeholder of size 0."""
    npu, lib = _library("simple_add_model", "ethos-u55-128", tmp_path)
    sg = npu.optimized.main
    flash = sg.tensors[sg.operators[npu.subgraph_ops()[0]].inputs[1]]
    assert flash.data is None and flash.nbytes == 0
    work = with_stand_in(lib.directory, tmp_path / "host", npu, 5)
    check = verify(work, "simple_add_model", npu.graph, 5, sanitize=True)
    assert check.ok and check.samples == 5, check.first_difference


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS_UNDER_TEST)
def test_cortex_m55_build_under_qemu_is_bit_exact(model, tmp_path):
    firmware.check_tools()
    npu, lib = _library(model, "ethos-u55-128", tmp_path)
    work = with_stand_in(lib.directory, tmp_path / "m55", npu, 10)
    report = firmware.evaluate(work, model, npu.graph, "cortex-m55", n=10)
    assert report.check.ok and report.check.samples == 10, report.check.first_difference
    assert report.sizes.model_constants > npu.flash_split()["encoded_weights"]


def test_the_stand_in_notices_a_library_that_skips_copying_the_input_into_velas_region(tmp_path):
    npu, lib = _library("hello_world_int8", "ethos-u55-128", tmp_path)
    source = lib.directory / "hello_world_int8.c"
    text = source.read_text()
    copy_in = re.search(r"^    memcpy\(\(\(int8_t \*\)\(mf_arena.bytes \+ \d+\)\), in0, 1\);$", text,
                        re.MULTILINE)
    assert copy_in is not None
    source.write_text(text.replace(copy_in.group(0), ""))
    work = with_stand_in(lib.directory, tmp_path / "host", npu, 4)
    with pytest.raises(ModelError, match="failed at run time"):
        verify(work, "hello_world_int8", npu.graph, 4)


def test_generated_c_places_the_npu_data_in_aligned_flash_and_vela_region_first(tmp_path):
    npu, lib = _library("keyword_scrambled", "ethos-u55-128", tmp_path)
    c = (lib.directory / "keyword_scrambled.c").read_text()
    subgraphs = len(npu.subgraph_ops())
    assert len(re.findall(r"static const uint8_t mf_t\d+_command_stream\[\d+\] "
                          r"__attribute__\(\(aligned\(16\)\)\)", c)) == subgraphs
    assert len(re.findall(r"mf_t\d+_flash\[\d+\] __attribute__", c)) == 1  # shared by all six
    assert c.count("mf_ethos_u_invoke(") == subgraphs
    assert "mf_arena __attribute__((aligned(16)))" in c
    assert lib.plan.offsets[0] == 0 and lib.plan.buffers[0].size == npu.memory.region
    assert not re.search(r"\bmalloc\b|\bfree\(", c)
    # every base address 1 (scratch) is the arena's start: the command stream's region
    assert set(re.findall(r"base\[1\] = \(uint64_t\)\(uintptr_t\)(.*);", c)) == {
        "((uint8_t *)(mf_arena.bytes + 0))"}


def test_variables_vela_placed_in_its_region_are_reset_there(tmp_path):
    npu, lib = _library("trained_lstm_int8", "ethos-u55-128", tmp_path)
    c = (lib.directory / "trained_lstm_int8.c").read_text()
    in_region = [t for t, tensor in enumerate(npu.optimized.main.tensors)
                 if tensor.is_variable and t in npu.memory.offsets]
    assert in_region and npu.memory.state == 0 and "mf_state_t" not in c
    resets = re.findall(r"\(\(int(?:8|16)_t \*\)\(mf_arena.bytes \+ (\d+)\)\)\[i\] = ", c)
    assert sorted(set(map(int, resets))) == sorted({npu.memory.offsets[t] for t in in_region})


def test_the_library_builds_with_its_makefile_and_ethosu_driver_dir(tmp_path):
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("needs make and cc")
    _, lib = _library("keyword_scrambled", "ethos-u55-128", tmp_path)
    missing = subprocess.run(["make", "-C", str(lib.directory)], capture_output=True, text=True)
    assert missing.returncode != 0 and "ETHOSU_DRIVER_DIR" in missing.stderr
    built = subprocess.run(["make", "-C", str(lib.directory), f"ETHOSU_DRIVER_DIR={STAND_IN}"],
                           capture_output=True, text=True, env={**os.environ, "CFLAGS": "-O2 -Wvla"})
    assert built.returncode == 0, built.stderr
    assert (lib.directory / "libkeyword_scrambled.a").is_file()


def test_compile_writes_the_library_and_measures_its_code(tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("needs arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi)")
    report = microforge.compile(MODELS / "keyword_scrambled.tflite", tmp_path / "o",
                                target="ethos-u55-128", verify=10)
    assert not report.failure and report.verified == 10
    assert {"keyword_scrambled.c", "keyword_scrambled.h", "mf_ethos_u.c", "mf_svdf.c", "Makefile",
            "keyword_scrambled_vela.tflite"} <= set(report.files)
    flash = report.npu["npu"]["flash"]
    assert flash["code"] == report.code_bytes > 0
    assert report.npu["flash_bytes"] == sum(flash.values())
    lean = microforge.compile(MODELS / "keyword_scrambled.tflite", tmp_path / "os",
                              target="ethos-u55-128", options=BuildOptions(opt="-Os", dsp=False))
    assert 0 < lean.code_bytes < report.code_bytes
    assert "no DSP" in lean.npu["npu"]["code_built_for"]
    with pytest.raises(InputError, match="--sanitize"):
        microforge.compile(MODELS / "hello_world_int8.tflite", tmp_path / "s",
                           target="ethos-u55-128", options=BuildOptions(sanitize=True))
    assert not (tmp_path / "s").exists()


def test_a_failed_compile_removes_the_files_it_wrote(tmp_path, monkeypatch):
    import microforge.compiler as compiler

    def broken(*args, **kwargs):
        raise ModelError("the build broke")

    monkeypatch.setattr(compiler, "measure_code", broken)  # fails after every file is written
    out = tmp_path / "o"
    with pytest.raises(ModelError, match="the build broke"):
        compiler.compile(MODELS / "hello_world_int8.tflite", out, target="ethos-u55-128")
    assert not out.exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("precious")
    with pytest.raises(ModelError, match="the build broke"):
        compiler.compile(MODELS / "hello_world_int8.tflite", tmp_path / "mine",
                         target="ethos-u55-128", force=True)
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_compile_cli_reports_the_code_of_the_library(tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("needs arm-none-eabi-gcc (apt-get install gcc-arm-none-eabi)")
    code, out, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", tmp_path / "o",
                         "--target", "ethos-u55-128")
    assert code == 0, err
    assert re.search(r"code [1-9][\d,]*", out) and "hello_world_int8.c" in out


def test_without_arm_gcc_the_code_is_measured_with_the_host_compiler(tmp_path, monkeypatch):
    import microforge.backends.ethos_u.library as library

    real = shutil.which
    monkeypatch.setattr(library.shutil, "which",
                        lambda tool: None if tool.startswith("arm-none-eabi") else real(tool))
    report = microforge.compile(MODELS / "hello_world_int8.tflite", tmp_path / "o",
                                target="ethos-u55-128")
    assert report.code_bytes > 0 and "host C compiler" in report.npu["npu"]["code_built_for"]
