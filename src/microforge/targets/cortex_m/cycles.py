"""A cycle **estimate** for Cortex-M4 and Cortex-M55 from an instruction-class profile.

QEMU counts instructions, not cycles. This module runs the firmware once more under QEMU with
``-d in_asm,exec,nochain`` (every translated block's disassembly, then one line per executed
block), counts the executed instructions of the model's code per class, and prices each class
with a per-instruction-class cost taken from the processors' published timing tables.

The trace only supplies each block's address range; the instructions in it are read from the
ELF's own disassembly (``arm-none-eabi-objdump -m armv8.1-m.main`` on the Cortex-M55). QEMU 7.2's
log disassembler does not know the Armv8.1-M low-overhead-loop (DLS / WLS / LE / LETP / DLSTP)
and most Helium encodings and prints each such 32-bit instruction as two 16-bit ones; counting
its lines over-counted Helium code by 14-16 %. A block logged and then not run ("Stopped
execution of TB chain before ...": the icount budget ran out or an interrupt was pending at its
start) is taken back out.

- Cortex-M4 (Arm Cortex-M4 Technical Reference Manual, "Processor instruction timings"):
  data processing, shifts, extends and every 32-bit multiply / multiply-accumulate including the
  DSP ones (MUL, SMULL, SMLAL, SMLAD, SMLABB...) 1 cycle, MLA / MLS 2; a single load 2 (the
  TRM's 2, not crediting the pipelining of neighbouring loads), a single store 1 (write
  buffer); LDRD / STRD 3; LDM / STM / PUSH / POP 1 + registers; a taken branch 1 + 2 (pipeline
  refill), an untaken one 1; SDIV / UDIV 7 (2-12, early termination); FPU add / multiply /
  convert / move 1, VMLA / VFMA 3, VDIV / VSQRT 14, VLDR / VSTR 2, VLDM / VSTM / VPUSH / VPOP
  1 + registers.
- Cortex-M55 (Cortex-M55 Software Optimization Guide): scalar data processing, multiplies and
  DSP multiply-accumulates 1 cycle; loads and stores 1 (TCM); LDRD / STRD 1; LDM / STM 1 per two
  registers (64-bit bus); a taken branch 2; divide 7; an MVE (Helium) instruction 2 — the M55
  executes a 128-bit vector instruction in two 64-bit beats — without crediting the overlap of a
  vector load with a vector multiply-accumulate; scalar FPU 1, divide / square root 14.

Unlike the instruction count the result is **an estimate** (no wait states, caches, load-use
stalls, dual issue or beat overlap are modelled). ``tests/targets/test_cycles.py`` checks that the
profile's instruction total agrees with the QEMU SysTick count it refines.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microforge.errors import ToolError
from microforge.targets.cortex_m.firmware import MAGIC, board, qemu_args

# cycles per instruction of each class; "list" classes add their cost per transferred register
COSTS: dict[str, dict[str, float]] = {
    "cortex-m4": {"alu": 1, "mul": 1, "mla": 2, "div": 7, "load": 2, "store": 1, "load_pair": 3,
                  "store_pair": 3, "list": 1, "list_reg": 1, "branch": 1, "branch_taken": 3,
                  "fpu": 1, "fpu_mac": 3, "fpu_div": 14, "fpu_mem": 2, "mve": 2, "mve_mem": 2,
                  "other": 1},
    "cortex-m55": {"alu": 1, "mul": 1, "mla": 1, "div": 7, "load": 1, "store": 1, "load_pair": 1,
                   "store_pair": 1, "list": 1, "list_reg": 0.5, "branch": 1, "branch_taken": 2,
                   "fpu": 1, "fpu_mac": 1, "fpu_div": 14, "fpu_mem": 1, "mve": 2, "mve_mem": 2,
                   "other": 1},
}
DEFAULT_CLOCK_MHZ = {"cortex-m4": 120.0, "cortex-m55": 160.0}
HARNESS_OBJECTS = ("startup.o", "harness_semihost.o", "harness_model.o")

_INSN = re.compile(r"^0x([0-9a-f]+):\s+([0-9a-f]{4}(?: [0-9a-f]{4})?)\s+(\S+)\s*(.*)$")
_TRACE = re.compile(r"^Trace \d+: (0x[0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/[0-9a-f]+\] ?(\S*)")
_BRANCHES = ("b", "bl", "blx", "bx", "cbz", "cbnz", "tbb", "tbh", "le", "letp", "wls", "wlstp")
# objdump -m: the architecture whose encodings the target's code uses (MVE and LOB on the M55)
OBJDUMP_ARCH = {"cortex-m4": "armv7e-m", "cortex-m7": "armv7e-m", "cortex-m55": "armv8.1-m.main"}
_DATA = (".word", ".short", ".byte", ".inst", "udf")
Code = dict[int, tuple[int, str, str]]  # address -> (bytes, mnemonic, operands)
_COND = ("eq", "ne", "hs", "cs", "lo", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
         "gt", "le", "al")


def _base(mnemonic: str) -> str:
    m = mnemonic.split(".")[0]
    if m in _BRANCHES:
        return m
    for suffix in ("s", *_COND):
        if m.endswith(suffix) and m[: -len(suffix)] in _BRANCHES:
            return m[: -len(suffix)]
    return m


def classify(mnemonic: str, operands: str) -> str:
    """The cost class of one disassembled instruction."""
    m = _base(mnemonic.lower())
    full = mnemonic.lower()
    if m in _BRANCHES or (m in ("pop", "ldm", "ldmia") and "pc" in operands):
        return "branch"
    if m.startswith("v"):
        if re.search(r"\b(q\d|p0)", operands) or m.startswith(("vctp", "vpst", "vpt", "vaddv", "vaddlv")):
            return "mve_mem" if m.startswith(("vldr", "vstr", "vld", "vst")) else "mve"
        if m in ("vldm", "vstm", "vpush", "vpop", "vldmia", "vstmia", "vstmdb"):
            return "list"
        if m in ("vldr", "vstr"):
            return "fpu_mem"
        if m in ("vdiv", "vsqrt"):
            return "fpu_div"
        if m in ("vmla", "vmls", "vfma", "vfms", "vnmla", "vnmls", "vfnma", "vfnms"):
            return "fpu_mac"
        return "fpu"
    if m in ("push", "pop", "ldm", "stm", "ldmia", "stmia", "stmdb", "ldmdb"):
        return "list"
    if m in ("ldrd", "ldrexd"):
        return "load_pair"
    if m == "strd":
        return "store_pair"
    if m.startswith("ldr") or m in ("ldaex", "lda"):
        return "load"
    if m.startswith("str") or m in ("stlex", "stl"):
        return "store"
    if m in ("mla", "mls"):
        return "mla"
    if m in ("sdiv", "udiv"):
        return "div"
    if m.startswith(("mul", "smul", "umul", "smla", "umla", "smls", "smmul", "smmla", "smmls",
                     "smuad", "smusd", "umaal")):
        return "mul"
    if full in ("bkpt", "wfi", "svc"):
        return "other"
    return "alu"


@dataclass
class Block:
    start: int
    end: int  # address after the last instruction (the fall-through)
    classes: Counter
    registers: int  # registers moved by its LDM / STM / PUSH / POP
    ends_in_branch: bool


@dataclass
class Profile:
    """Executed instructions of the model's code per class, and the taken branches among them."""

    classes: dict[str, int]
    taken_branches: int
    list_registers: int

    @property
    def instructions(self) -> int:
        return sum(self.classes.values())

    def cycles(self, target: str) -> float:
        cost = COSTS[target]
        total = sum(cost[k] * n for k, n in self.classes.items())
        total += (cost["branch_taken"] - cost["branch"]) * self.taken_branches
        return total + cost["list_reg"] * self.list_registers

    def cycles_per_instruction(self, target: str) -> float:
        return self.cycles(target) / max(self.instructions, 1)


def _registers(operands: str) -> int:
    inside = operands[operands.find("{") + 1: operands.find("}")] if "{" in operands else ""
    count = 0
    for part in filter(None, (p.strip() for p in inside.split(","))):
        if "-" in part:
            lo, hi = (int(re.sub(r"\D", "", s) or 0) for s in part.split("-"))
            count += hi - lo + 1
        else:
            count += 1
    return count


def disassemble(elf: Path, target: str) -> Code:
    """Every instruction of ``elf``'s code, decoded by binutils for the target's architecture."""
    out = subprocess.run(["arm-none-eabi-objdump", "-d", f"-m{OBJDUMP_ARCH[target]}", str(elf)],
                         capture_output=True, text=True, check=True).stdout
    code: Code = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].strip().endswith(":"):
            continue
        try:
            addr = int(parts[0].strip()[:-1], 16)
        except ValueError:
            continue
        words = parts[1].split()
        mnemonic = parts[2].strip()
        if mnemonic in _DATA or not all(len(w) == 4 for w in words):
            continue  # literal pools and other data in the text section
        operands = parts[3].split("@")[0].split(";")[0].strip() if len(parts) > 3 else ""
        code[addr] = (2 * len(words), mnemonic, operands)
    return code


def _decoded(start: int, end: int, code: Code) -> list[tuple[int, int, str, str]] | None:
    """The instructions of ``code`` filling [start, end) exactly, or None if it does not."""
    found, addr = [], start
    while addr < end:
        if addr not in code:
            return None
        size, mn, ops = code[addr]
        found.append((addr, size, mn, ops))
        addr += size
    return found if addr == end else None


def parse_trace(lines, excluded: set[str], code: Code | None = None) -> Profile:
    """The profile of a ``-d in_asm,exec,nochain`` log: blocks executed by functions not in
    ``excluded`` (the harness's). With ``code`` (``disassemble``) each block's instructions are
    the ELF's between the block's first and last logged address; otherwise the log's own."""
    fresh: dict[int, Block] = {}
    by_host: dict[str, Block] = {}
    current: list[tuple[int, int, str, str]] | None = None
    classes: Counter = Counter()
    taken = regs = 0
    previous: Block | None = None
    counted: Block | None = None  # the block of the last Trace line, if it was counted

    def close() -> None:
        nonlocal current
        if current:
            end = max(a + n for a, n, _, _ in current)
            current = (_decoded(current[0][0], end, code) if code else None) or current
            c: Counter = Counter()
            n_regs = 0
            for _, _, mn, ops in current:
                k = classify(mn, ops)
                c[k] += 1
                if k == "list":
                    n_regs += _registers(ops)
            addr, size, mn, ops = current[-1]
            fresh[current[0][0]] = Block(current[0][0], addr + size, c, n_regs,
                                         classify(mn, ops) == "branch")

    for line in lines:
        if line.startswith("Stopped execution"):
            if counted is not None:  # logged, then not run: take it back
                classes.subtract(counted.classes)
                regs -= counted.registers
            counted = previous = None
        elif line.startswith("Trace"):
            if current is not None:
                close()
                current = None
            counted = None
            t = _TRACE.match(line)
            if t is None:
                continue
            host, pc, func = t.group(1), int(t.group(2), 16), t.group(3)
            block = fresh.pop(pc, None)
            if block is not None:
                by_host[host] = block
            else:
                block = by_host.get(host)
            if block is None:
                continue
            if previous is not None and previous.ends_in_branch and pc != previous.end:
                taken += 1
            previous = None
            if func in excluded:
                continue
            classes.update(block.classes)
            regs += block.registers
            previous = counted = block
        elif line.startswith("IN:"):
            close()
            current = []
        elif current is not None:
            m = _INSN.match(line)
            if m:
                current.append((int(m.group(1), 16), len(m.group(2).replace(" ", "")) // 2,
                                m.group(3), m.group(4)))
    close()
    return Profile({k: n for k, n in classes.items() if n}, taken, regs)


def harness_symbols(work: Path) -> set[str]:
    """Functions defined by the harness objects (excluded from the model's profile)."""
    names: set[str] = set()
    for obj in HARNESS_OBJECTS:
        out = subprocess.run(["arm-none-eabi-nm", "--defined-only", str(work / obj)],
                             capture_output=True, text=True, check=True).stdout
        names.update(line.split()[-1] for line in out.splitlines() if line.strip())
    return names


def profile_firmware(elf: Path, target: str, inputs: bytes, samples: int, work: Path,
                     timeout: float) -> Profile:
    """Run ``elf`` (built by ``firmware.build_firmware`` in ``work``) on ``samples`` inputs with
    the execution trace on, streamed through a pipe, and return the model code's profile
    (summed over the samples)."""
    b = board(target)
    header = np.array([MAGIC, samples, 0], "<u4").tobytes()
    (work / "mf_in.bin").write_bytes(header + inputs)
    excluded = harness_symbols(work)
    code = disassemble(elf, target)
    with tempfile.TemporaryDirectory(prefix="mf-trace-") as tmp:
        fifo = Path(tmp) / "trace"
        os.mkfifo(fifo)
        proc = subprocess.Popen(["qemu-system-arm", *qemu_args(b, str(elf)), "-d",
                                 "in_asm,exec,nochain", "-D", str(fifo)], cwd=work,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            with open(fifo, errors="replace") as f:
                result = parse_trace(f, excluded, code)
            proc.wait()
        finally:
            timer.cancel()
    if proc.returncode != 0:
        raise ToolError(f"the traced firmware run failed under qemu-system-arm -M {b.machine} "
                        f"(exit code {proc.returncode})")
    return result
