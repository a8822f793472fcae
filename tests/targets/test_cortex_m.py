"""Cortex-M targets under QEMU: the shared models and single-operator conv / depthwise / fully
connected (DSP, Helium and portable kernels, edge shapes and extreme requantization, in place),
PRELU / RESIZE_NEAREST_NEIGHBOR and int16 SignalRfft cases (DSP and portable kernels)
are bit-exact with the Python runtime on cortex-m4 and cortex-m55; the map-file size split adds
up to the ELF; the instruction estimate is calibrated on a loop of known length on every board;
the stack high-water mark is measured; a hanging firmware times out and a CPU fault is reported;
missing tools give one error naming the apt packages; the CLI reports it all."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from microforge.api import Model
from microforge.backends.c.compiler import compile_model, generate
from microforge.errors import ModelError, ToolError
from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import GraphBuilder
from microforge.runtime.reference import Reference, compare_outputs
from microforge.targets.cortex_m import firmware as cortex_m
from tests.builders.c import merge
from tests.builders.conv_edges import edge_cases, inplace_chain
from tests.builders.ops import SAME, VALID, conv_model, conv_weights
from tests.builders.prelu_resize import (
    PRELU_CASES,
    RESIZE_CASES,
    RESIZE_OPTIONS,
    prelu_model,
    resize_model,
)
from tests.builders.signal import RFFT_CASES, SIMD_RFFT_CASES, rfft_s16_cases
from tests.oracle import MODELS

MODELS_ON_TARGET = [
    "hello_world_int8", "hello_world_float", "micro_speech_quantized", "keyword_scrambled",
    "keyword_scrambled_8bit", "trained_lstm", "trained_lstm_int8", "dtln_noise_suppression",
    "simple_add_model", "audio_preprocessor_int8", "audio_preprocessor_float",
]


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
@pytest.mark.parametrize("model", MODELS_ON_TARGET)
def test_shared_model_bit_exact_under_qemu(model, target, tmp_path):
    graph = read_tflite(MODELS / f"{model}.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name=model)
    report = cortex_m.evaluate(compiled.directory, model, graph, target, n=50)
    assert report.check.samples >= 50
    assert report.check.differing_bytes == 0, report.check.first_difference
    assert report.sizes.arena == compiled.arena_bytes
    assert report.stack_bytes > 0 and min(report.measurements.instructions) > 0


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
def test_person_detect_bit_exact_under_qemu(target, tmp_path):
    graph = read_tflite(MODELS / "person_detect.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name="pd")
    report = cortex_m.evaluate(compiled.directory, "pd", graph, target, n=10)
    assert report.check.differing_bytes == 0, report.check.first_difference


def _conv_cases() -> GraphBuilder:
    """Channel counts around the 4-channel DSP groups and 2-row pairs, clipped windows, strides,
    dilations, every depthwise path (multiplier 1, input depth 1, general) and zero points at the
    extremes (input offset -127 and 128)."""
    cases = []
    conv = [  # (kernel, in H x W, in_c, out_c, padding, stride, dilation, input zero point)
        ((1, 1), (4, 5), 7, 5, VALID, 1, 1, None),  # pointwise, tails in both depths
        ((1, 1), (3, 3), 16, 8, SAME, 1, 1, -128),
        ((3, 3), (7, 6), 1, 8, SAME, 2, 1, None),
        ((3, 2), (6, 7), 5, 9, SAME, 1, 2, 127),
        ((5, 4), (4, 3), 3, 6, SAME, 1, 1, None),
        ((2, 2), (5, 5), 4, 70, VALID, 2, 1, None),  # two channel blocks
    ]
    for i, (k, hw, c_in, c_out, pad, stride, dil, zp) in enumerate(conv):
        opts = {"padding": pad, "stride_h": stride, "stride_w": stride,
                "dilation_h_factor": dil, "dilation_w_factor": dil, "fused_activation_function": i % 4}
        cases.append(conv_model("CONV_2D", np.int8, (1, *hw, c_in),
                            conv_weights("CONV_2D", k, c_in, c_out, seed=i), opts, x_zp=zp, seed=i))
    depthwise = [  # (kernel, in H x W, in_c, multiplier, padding, stride, dilation, zero point)
        ((3, 3), (6, 7), 9, 1, SAME, 1, 1, -128),
        ((3, 3), (7, 6), 70, 1, SAME, 2, 1, 127),
        ((4, 3), (9, 8), 1, 8, SAME, 2, 1, None),  # micro_speech's layout
        ((3, 3), (5, 5), 1, 5, VALID, 1, 2, None),
        ((2, 3), (6, 5), 3, 2, SAME, 1, 1, None),
    ]
    for i, (k, hw, c_in, m, pad, stride, dil, zp) in enumerate(depthwise):
        opts = {"padding": pad, "stride_h": stride, "stride_w": stride,
                "dilation_h_factor": dil, "dilation_w_factor": dil, "fused_activation_function": 0}
        weights = conv_weights("DEPTHWISE_CONV_2D", k, c_in, c_in * m, seed=10 + i, depth_multiplier=m)
        cases.append(conv_model("DEPTHWISE_CONV_2D", np.int8, (1, *hw, c_in), weights, opts, x_zp=zp,
                                seed=10 + i))
    for i, (rows, accum, depth) in enumerate([(1, 7, 1), (1, 16, 3), (2, 33, 10)]):
        rng = np.random.default_rng(20 + i)
        b = GraphBuilder()
        x = b.input("x", (rows, accum), np.int8, 0.02, int(rng.integers(-20, 20)))
        w = b.const("w", rng.integers(-127, 128, (depth, accum)).astype(np.int8),
                    scale=np.float32(0.01), zero_point=0)
        bias = b.const("b", rng.integers(-2000, 2000, depth).astype(np.int32),
                       scale=np.float32(0.0002), zero_point=0)
        y = b.tensor("y", (rows, depth), np.int8, 0.02 * np.sqrt(accum), int(rng.integers(-10, 10)))
        b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=0)
        b.output(y)
        cases.append(b)
    return merge(cases)


@pytest.mark.parametrize("target,dsp", [("cortex-m4", True), ("cortex-m4", False),
                                        ("cortex-m55", True)])
def test_conv_depthwise_fc_kernels_bit_exact(target, dsp, tmp_path):
    graph = _conv_cases().build()
    compiled = compile_model(graph, tmp_path / "lib", name="ops")
    report = cortex_m.evaluate(compiled.directory, "ops", graph, target, n=200, dsp=dsp)
    assert report.check.samples == 200
    assert report.check.differing_bytes == 0, report.check.first_difference


@pytest.mark.parametrize("target,dsp", [("cortex-m4", True), ("cortex-m4", False),
                                        ("cortex-m55", True), ("cortex-m55", False)])
def test_kernel_variants_at_the_edges_bit_exact(target, dsp, tmp_path):
    """The DSP (cortex-m4), Helium (cortex-m55) and portable (--no-dsp) convolution, depthwise and
    fully connected kernels on odd channel counts, counts that are not multiples of 4 / 8 / 16,
    stride 2, padding on every side, dilation, 1- and 3-channel first layers and per-channel
    multipliers near 2^31 with left shifts up to 3 and right shifts down to 30
    (tests/builders/conv_edges.py)."""
    graph = edge_cases().build()
    compiled = compile_model(graph, tmp_path / "lib", name="edges")
    report = cortex_m.evaluate(compiled.directory, "edges", graph, target, n=100, dsp=dsp)
    assert report.check.samples == 100
    assert report.check.differing_bytes == 0, report.check.first_difference


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
@pytest.mark.parametrize("channels", [3, 5, 12, 24, 68, 72])
def test_depthwise_in_place_bit_exact(target, channels, tmp_path):
    """A depthwise layer whose output overlaps its input (the kernels then hold each 64-channel
    block's outputs until the block is read); 72 channels: a whole block and a partial one;
    3, 5, 12 and 68: a safe shift that is not a multiple of 8 bytes (used rounded down)."""
    graph = inplace_chain(channels).build()
    compiled = compile_model(graph, tmp_path / "lib", name="chain", patches=False)
    assert generate(graph, "chain", "test", patches=False).plan.overlapping()
    report = cortex_m.evaluate(compiled.directory, "chain", graph, target, n=50)
    assert report.check.differing_bytes == 0, report.check.first_difference


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
def test_prelu_and_resize_bit_exact(target, tmp_path):
    """Every PRELU broadcast layout in float32, int8 and int16, every RESIZE_NEAREST_NEIGHBOR case
    in float32 and int8, in one firmware."""
    cases = [prelu_model(d, i, a, 10 * c) for d in (np.float32, np.int8, np.int16)
             for c, (i, a) in enumerate(PRELU_CASES)]
    cases += [resize_model(d, s, z, *o, quant=(None, None) if d == np.float32 else (0.05, 0))
              for d in (np.float32, np.int8) for s, z in RESIZE_CASES for o in RESIZE_OPTIONS]
    graph = merge(cases).build()
    compiled = compile_model(graph, tmp_path / "lib", name="ops")
    report = cortex_m.evaluate(compiled.directory, "ops", graph, target, n=200)
    assert report.check.samples == 200
    assert report.check.differing_bytes == 0, report.check.first_difference


def test_size_split_adds_up_to_the_elf(tmp_path):
    graph = read_tflite(MODELS / "micro_speech_quantized.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name="kws")
    report = cortex_m.evaluate(compiled.directory, "kws", graph, "cortex-m4", n=1, opt="-Os")
    s = report.sizes
    elf_flash = sum(s.elf.get(k, 0) for k in (".text", ".ARM.exidx", ".rodata", ".data"))
    assert s.flash + s.harness_flash + s.padding == elf_flash
    assert s.static_ram + s.harness_ram == s.elf.get(".data", 0) + s.elf[".bss"]
    assert s.arena == compiled.arena_bytes
    assert s.model_constants >= compiled.source.const_bytes
    assert set(s.kernel_objects) == {"mf_conv", "mf_fully_connected", "mf_softmax"}
    assert s.kernels == sum(s.kernel_objects.values())
    d = report.as_dict()
    assert d["ram"]["total"] == s.arena + s.static_data + d["ram"]["stack_high_water"]


def _fake_library(tmp_path, body: str):
    """A one-input, one-output library whose NAME_invoke is replaced by ``body``."""
    b = GraphBuilder()
    x = b.input("x", (1, 4), np.int8, 1.0, 0)
    y = b.tensor("y", (1, 4), np.int8, 1.0, 0)
    b.op("RESHAPE", [x], [y], new_shape=np.array([1, 4], np.int32))
    b.output(y)
    graph = b.build()
    compiled = compile_model(graph, tmp_path / "lib", name="fake")
    (compiled.directory / "fake.c").write_text(
        f'#include "fake.h"\n\n{body}\n\nvoid fake_reset(void) {{\n}}\n')
    return compiled.directory, graph


def _run_fake(tmp_path, target, body, values, timeout=60.0):
    src, graph = _fake_library(tmp_path, body)
    xs = np.repeat(np.array(values, np.int8)[:, None, None], 4, axis=2)
    ref = Reference([xs], [xs], len(values), 0)
    work = tmp_path / "work"
    work.mkdir()
    elf = cortex_m.build_firmware(src, "fake", graph, target, work)
    return cortex_m.run_firmware(elf, target, ref, work, timeout)


LOOP = """int fake_invoke(const int8_t *in0, int8_t *out0) {
    uint32_t n = (uint32_t)in0[0] * 1000u;
    __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(n));
    memcpy(out0, in0, 4);
    return 0;
}"""


@pytest.mark.parametrize("target", sorted(cortex_m.BOARDS))
def test_instruction_estimate_matches_a_loop_of_known_length(target, tmp_path):
    raw, meas = _run_fake(tmp_path, target, '#include <string.h>\n' + LOOP, [1, 10, 100])
    assert raw == bytes(np.repeat(np.array([1, 10, 100], np.int8), 4))
    for k, got in zip([1, 10, 100], meas.instructions):
        assert abs(got - 2000 * k) <= meas.resolution + 40, (k, got)


def test_stack_high_water_is_measured(tmp_path):
    body = """#include <string.h>
int fake_invoke(const int8_t *in0, int8_t *out0) {
    volatile int8_t buf[1000];
    int32_t i;
    for (i = 0; i < 1000; ++i) {
        buf[i] = in0[i % 4];
    }
    out0[0] = buf[0];
    out0[1] = buf[1];
    out0[2] = buf[2];
    out0[3] = buf[3];
    return 0;
}"""
    _, meas = _run_fake(tmp_path, "cortex-m4", body, [3, 4])
    assert all(1000 <= s <= 1100 for s in meas.stack_bytes), meas.stack_bytes


def test_hanging_firmware_times_out(tmp_path):
    body = """int fake_invoke(const int8_t *in0, int8_t *out0) {
    (void)in0;
    (void)out0;
    for (;;) {
    }
}"""
    with pytest.raises(ToolError, match="did not finish within 3 s"):
        _run_fake(tmp_path, "cortex-m4", body, [1], timeout=3.0)


def test_cpu_fault_is_reported(tmp_path):
    body = """int fake_invoke(const int8_t *in0, int8_t *out0) {
    volatile uint32_t *unmapped = (volatile uint32_t *)0xF0000000u;
    out0[0] = (int8_t)*unmapped;
    (void)in0;
    return 0;
}"""
    with pytest.raises(ModelError, match="failed under qemu-system-arm -M mps2-an386: .*CPU fault"):
        _run_fake(tmp_path, "cortex-m4", body, [1])


def test_missing_tools_name_the_apt_packages(monkeypatch):
    monkeypatch.setattr(cortex_m.shutil, "which", lambda tool: None)
    with pytest.raises(ToolError) as err:
        cortex_m.check_tools()
    message = str(err.value)
    assert "arm-none-eabi-gcc" in message and "qemu-system-arm" in message
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm" in message


def test_cli_target_report(tmp_path):
    out = tmp_path / "kws"
    proc = subprocess.run(
        [sys.executable, "-m", "microforge", "compile", str(MODELS / "micro_speech_quantized.tflite"),
         "-o", str(out), "--target", "cortex-m4", "--verify", "20", "--opt", "Os", "--json"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    fw = r["firmware"]
    assert r["verified"] == 20 and r["differing_bytes"] == 0
    assert fw["board"] == "mps2-an386" and fw["opt"] == "-Os" and fw["dsp_kernels"] is True
    flash, ram = fw["flash"], fw["ram"]
    assert flash["total"] == flash["kernels"] + flash["model_constants"] + flash["runtime_glue"]
    assert ram["total"] == ram["arena"] + ram["static_data"] + ram["stack_high_water"]
    assert r["ram_bytes"] == ram["total"] and r["flash_bytes"] == flash["total"]
    ins = fw["instructions_per_inference"]
    assert ins["estimate"] is True and 0 < ins["min"] <= ins["mean"] <= ins["max"]
    assert "firmware/startup.c" in r["files"] and (out / "firmware" / "link_mps2_an386.ld").is_file()
    subprocess.run(["make", "-s"], cwd=out / "firmware", check=True, capture_output=True)
    assert (out / "firmware" / "firmware.elf").is_file()
    text = subprocess.run(
        [sys.executable, "-m", "microforge", "compile", str(MODELS / "hello_world_int8.tflite"),
         "-o", str(tmp_path / "hw"), "--target", "cortex-m55", "--verify", "5"],
        capture_output=True, text=True, timeout=600)
    assert text.returncode == 0, text.stderr
    assert "mps3-an547" in text.stdout and "bit-exact" in text.stdout
    assert "instructions per inference" in text.stdout and "estimate" in text.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "microforge", "compile", str(MODELS / "hello_world_int8.tflite"),
         "-o", str(tmp_path / "hw2"), "--target", "cortex-m4", "--sanitize", "--verify", "1"],
        capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "--sanitize" in bad.stderr


def test_cli_lists_every_target():
    from microforge.cli import build_parser
    from microforge.targets import TARGETS

    compile_parser = build_parser()._subparsers._group_actions[0].choices["compile"]
    choices = next(a.choices for a in compile_parser._actions if a.dest == "target")
    assert list(choices)[:len(TARGETS)] == list(TARGETS)
    assert all(c.startswith("ethos-u") for c in list(choices)[len(TARGETS):])  # the NPU targets


@pytest.mark.parametrize("target,dsp", [("cortex-m4", True), ("cortex-m4", False),
                                        ("cortex-m55", True)])
def test_rfft_s16_bit_exact_under_qemu(target, dsp, tmp_path):
    """The int16 KISS FFT's DSP-extension path (packed complex words) and its portable C on the
    target, against the Python runtime."""
    graph, inputs = rfft_s16_cases(RFFT_CASES + SIMD_RFFT_CASES, seed=17)
    compiled = compile_model(graph, tmp_path / "lib", name="fft")
    n = inputs[0].shape[0]
    ref = Reference(inputs, Model(graph).run(inputs), n, 0)
    work = tmp_path / "work"
    work.mkdir()
    elf = cortex_m.build_firmware(compiled.directory, "fft", graph, target, work, dsp=dsp)
    raw, _ = cortex_m.run_firmware(elf, target, ref, work, timeout=600.0)
    result = compare_outputs(raw, graph, ref)
    assert result.samples == n == 200
    assert result.differing_bytes == 0, result.first_difference
