"""The Cortex-M cycle estimate: instruction classes from disassembly, and the traced profile of
the model's code agrees with QEMU's SysTick instruction count (the count it refines) within 2 % on
the Cortex-M4 and Cortex-M55, with a cycles-per-instruction inside the cost table's range."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.backends.c.compiler import compile_model
from microforge.frontends.tflite.reader import read_tflite
from microforge.runtime.reference import reference
from microforge.targets.cortex_m import cycles
from microforge.targets.cortex_m import firmware as cortex_m
from tests.builders.ops import SAME, conv_model, conv_weights
from tests.oracle import MODELS


@pytest.mark.parametrize(("mnemonic", "operands", "cls"), [
    ("smlad", "r0, r1, r2, r0", "mul"), ("mla", "r0, r1, r2, r3", "mla"),
    ("ldr.w", "r3, [r2, #4]", "load"), ("strb", "r0, [r1]", "store"), ("ldrd", "r0, r1, [r2]", "load_pair"),
    ("push", "{r4, r5, lr}", "list"), ("bne", "#0x39a", "branch"), ("pop", "{r4, pc}", "branch"),
    ("cbz", "r0, #0x10", "branch"), ("sxtb16", "r0, r1", "alu"), ("vmla.f32", "s0, s1, s2", "fpu_mac"),
    ("vldrb.s8", "q0, [r0]", "mve_mem"), ("vmlava.s8", "r0, q0, q1", "mve"), ("vldr", "s0, [r0]", "fpu_mem"),
])
def test_instruction_classes(mnemonic, operands, cls):
    assert cycles.classify(mnemonic, operands) == cls


def test_trace_parsing_counts_blocks_and_taken_branches():
    log = [
        "IN: f", "0x00000100:  4b19       ldr      r3, [pc, #0x64]",
        "0x00000102:  f8d2 3d88  ldr.w    r3, [r2, #0xd88]", "0x00000106:  d1fa       bne      #0x100", "",
        "Trace 0: 0x7f01 [00800408/00000100/00000110/ff020200] f",
        "Trace 0: 0x7f01 [00800408/00000100/00000110/ff020200] f",
        "IN: main", "0x00000108:  b510       push     {r4, lr}", "",
        "Trace 0: 0x7f02 [00800408/00000108/00000110/ff020200] main",
    ]
    p = cycles.parse_trace(log, {"main"})
    assert p.classes == {"load": 4, "branch": 2} and p.taken_branches == 1
    assert p.cycles("cortex-m4") == 4 * 2 + 2 * 1 + 2 * 1


def test_trace_blocks_take_their_instructions_from_the_elf():
    # QEMU 7.2 logs the Armv8.1-M DLS and LE as two 16-bit lines each (".byte" + a misread
    # halfword); the ELF's disassembly has one instruction each. The third run of the loop
    # block is logged and then stopped before it runs (icount budget): it is not counted.
    log = [
        "IN: f", "0x00000430:  f04f 0064  mov.w    r0, #0x64", "0x00000434:  f040       .byte    0x40, 0xf0",
        "0x00000436:  e001       b        #0x43c", "0x00000438:  bf00       nop      ",
        "0x0000043a:  f00f       .byte    0x0f, 0xf0", "0x0000043c:  c803       ldm      r0, {r0, r1}", "",
        "Trace 0: 0x7f01 [0080044a/00000430/00000050/ff020200] f", "----------------",
        "IN: f", "0x00000438:  bf00       nop      ", "0x0000043a:  f00f       .byte    0x0f, 0xf0",
        "0x0000043c:  c803       ldm      r0, {r0, r1}", "",
        *["Trace 0: 0x7f02 [0080044a/00000438/00000050/ff020200] f"] * 3,
        "Stopped execution of TB chain before 0x7f02 [00000438] f", "----------------",
        "IN: f", "0x00000438:  bf00       nop      ", "",
        "Trace 0: 0x7f03 [0080044a/00000438/00000050/ff020201] f",
    ]
    code = {0x430: (4, "mov.w", "r0, #100"), 0x434: (4, "dls", "lr, r0"), 0x438: (2, "nop", ""),
            0x43a: (4, "le", "lr, 438 <f+0x8>")}
    p = cycles.parse_trace(log, set(), code)
    assert p.classes == {"alu": 6, "branch": 3} and p.taken_branches == 3
    assert cycles.parse_trace(log, set()).instructions == 13  # the log's own lines over-count


def _one_conv():
    k, c_in, c_out = (3, 3), 6, 10
    return conv_model("CONV_2D", np.int8, (1, 9, 8, c_in), conv_weights("CONV_2D", k, c_in, c_out, 3),
                      {"padding": SAME, "stride_h": 2, "stride_w": 1}).build()


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
@pytest.mark.parametrize("model", ["hello_world_int8", "conv"])
def test_profile_agrees_with_the_instruction_count(model, target, tmp_path):
    graph = _one_conv() if model == "conv" else read_tflite(MODELS / f"{model}.tflite")
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    measured = cortex_m.evaluate(compiled.directory, "m", graph, target, n=3).measurements
    work = tmp_path / "fw"
    work.mkdir()
    elf = cortex_m.build_firmware(compiled.directory, "m", graph, target, work)
    ref = reference(graph, 3, 0)
    prof = cycles.profile_firmware(elf, target, ref.input_bytes(), ref.total, work, timeout=300)
    counted = prof.instructions / 3
    # two counts of the same instructions (the trace's blocks decoded from the ELF; QEMU's icount)
    assert abs(counted - np.mean(measured.instructions)) <= 0.02 * counted + 2 * measured.resolution
    cpi = prof.cycles_per_instruction(target)
    assert 1.0 <= cpi <= 3.0
    # the multiplies: DSP instructions on the M4, Helium ones (VMLAVA...) on the M55
    assert prof.classes.get("mve" if target == "cortex-m55" else "mul", 0) > 0
    assert prof.taken_branches > 0
