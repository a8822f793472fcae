"""Firmware sizes as a firmware engineer reads them: the linked ELF's sections
(``arm-none-eabi-size``) and, from the linker map file, which object every input section came from,
split into kernels, model constants, runtime glue (the library's own code and the libc / libm /
libgcc routines it pulls in), arena, other static data and the test harness."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from microforge.errors import ToolError

# glibc-compatible math linked by the firmware in place of newlib's (counted as runtime glue).
MATH_OBJECT = "mf_libm"

FLASH_SECTIONS = {".text", ".ARM.exidx", ".rodata", ".data"}
RAM_SECTIONS = {".data", ".bss"}
NOT_LOADED = (".debug", ".comment", ".ARM.attributes")


@dataclass
class MapEntry:
    output: str  # output section: .text, .rodata, .data, .bss, ...
    section: str  # input section name, e.g. .bss.mf_arena
    size: int
    origin: str  # object file or archive(member)


def parse_map(text: str) -> list[MapEntry]:
    """Input sections of the linked image (the map's "Linker script and memory map" part)."""
    start = text.find("Linker script and memory map")
    entries: list[MapEntry] = []
    output = ""
    pending = None
    for line in text[start:].splitlines()[1:]:
        if re.match(r"^[./]\S*", line):
            output = line.split()[0]
            continue
        if pending is not None:
            m = re.match(r"^\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$", line)
            if m:
                entries.append(MapEntry(output, pending, int(m.group(1), 16), m.group(2).strip()))
            pending = None
            continue
        m = re.match(r"^ (\S+)(?:\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s*(\S.*)?)?$", line)
        if not m or (m.group(1).startswith("*") and m.group(1) != "*fill*"):
            continue
        if m.group(2) is None:
            pending = m.group(1)
        elif m.group(1) == "*fill*":
            entries.append(MapEntry(output, "*fill*", int(m.group(2), 16), ""))
        else:
            entries.append(MapEntry(output, m.group(1), int(m.group(2), 16), m.group(3) or ""))
    return entries


def elf_sections(elf: Path) -> dict[str, int]:
    proc = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(f"arm-none-eabi-size failed: {proc.stderr.strip()}")
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit() and not parts[0].startswith(NOT_LOADED):
            out[parts[0]] = int(parts[1])
    return out


@dataclass
class FirmwareSizes:
    """Bytes of the library as linked for the target, split the way firmware engineers read it."""

    kernels: int  # code + constants + initialised data of the mf_* kernel objects
    model_constants: int  # weights, tables and parameter structs in NAME.c
    runtime_glue: int  # NAME_invoke / NAME_reset code + the libc/libm/libgcc routines linked in
    arena: int
    static_data: int  # all other .data/.bss of the library: state buffers, kernel and libc statics
    harness_flash: int  # test harness, startup code and vector table (not part of the library)
    harness_ram: int  # the harness's I/O buffers (its stack reserve is not counted)
    padding: int  # trailing alignment fill at the end of flash output sections
    elf: dict[str, int]  # arm-none-eabi-size -A of the whole firmware
    kernel_objects: dict[str, int] = field(default_factory=dict)
    glue_parts: dict[str, int] = field(default_factory=dict)

    @property
    def flash(self) -> int:
        return self.kernels + self.model_constants + self.runtime_glue

    @property
    def static_ram(self) -> int:
        return self.arena + self.static_data


def _origin_kind(origin: str, name: str, kernel_stems: set[str]) -> tuple[str, str]:
    """(category, label) of an input section's source file."""
    if "(" in origin and origin.endswith(")"):
        archive = Path(origin[:origin.index("(")]).name
        member = origin[origin.index("(") + 1:-1]
        return "library", f"{archive}({member})"
    stem = Path(origin).stem
    if stem == MATH_OBJECT:
        return "library", f"{stem}.o"
    if stem == name:
        return "model", f"{name}.o"
    if stem in kernel_stems:
        return "kernel", stem
    return "harness", stem


def measure_sizes(map_text: str, elf: dict[str, int], name: str,
                  kernel_stems: set[str]) -> FirmwareSizes:
    """Attribute every input section (alignment fill to the section that needed it: the next one
    in the same output section) to kernels, model constants, runtime glue or the harness."""
    kernels = constants = glue = arena = static = h_flash = h_ram = padding = 0
    kernel_objects: dict[str, int] = {}
    glue_parts: dict[str, int] = {}
    fill, fill_output = 0, ""
    for e in parse_map(map_text):
        in_flash = e.output in FLASH_SECTIONS
        in_ram = e.output in RAM_SECTIONS
        if not (in_flash or in_ram) or e.size == 0:
            continue
        if fill and fill_output != e.output:
            padding += fill if fill_output in FLASH_SECTIONS else 0
            fill = 0
        if e.section == "*fill*" or not e.origin or e.origin == "linker stubs":
            fill, fill_output = fill + e.size, e.output
            continue
        size, fill = e.size + fill, 0
        kind, label = _origin_kind(e.origin, name, kernel_stems)
        if kind == "harness":
            h_flash += size if in_flash else 0
            h_ram += size if in_ram else 0
            continue
        if in_ram:
            if kind == "model" and e.section == ".bss.mf_arena":
                arena += e.size  # its alignment fill counts as other static data
                static += size - e.size
            else:
                static += size
        if not in_flash:
            continue
        if kind == "kernel":
            kernels += size
            kernel_objects[label] = kernel_objects.get(label, 0) + size
        elif kind == "model" and e.output in (".rodata", ".data"):
            constants += size
        else:
            glue += size
            glue_parts[label] = glue_parts.get(label, 0) + size
    padding += fill if fill_output in FLASH_SECTIONS else 0
    return FirmwareSizes(kernels, constants, glue, arena, static, h_flash, h_ram, padding, elf,
                         kernel_objects, glue_parts)
