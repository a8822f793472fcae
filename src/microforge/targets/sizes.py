"""Measure what a built library costs: code, constant data, static RAM, stack (an estimate from
``-fstack-usage``), by compiling each source to an object file and reading its sections."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from microforge.errors import ToolError
from microforge.targets.host import CFLAGS, find_compiler


@dataclass
class Sizes:
    code_bytes: int
    const_bytes: int
    data_bytes: int  # .data + .bss: the arena, state and any other static RAM
    stack_bytes: int  # deepest invoke -> kernel frame chain (estimate)

    @property
    def ram_bytes(self) -> int:
        return self.data_bytes + self.stack_bytes


def _sections(obj: Path, size_tool: str) -> dict[str, int]:
    out = subprocess.run([size_tool, "-A", str(obj)], capture_output=True, text=True)
    if out.returncode != 0:
        raise ToolError(f"{size_tool} failed on {obj.name}: {out.stderr.strip()}")
    sections = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    return sections


def parse_callgraph(text: str, nodes: dict[str, int], edges: dict[str, set[str]]) -> None:
    """Read a gcc ``-fcallgraph-info=su`` file: function stack frames and direct calls."""
    for m in re.finditer(r'node: \{ title: "([^"]+)" label: "[^"]*?(\d+) bytes', text):
        nodes[m.group(1)] = int(m.group(2))
    for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
        edges.setdefault(m.group(1), set()).add(m.group(2))


def deepest_stack(root: str, nodes: dict[str, int], edges: dict[str, set[str]]) -> int:
    """Worst-case stack of ``root`` and everything it calls (the generated code never recurses)."""
    memo: dict[str, int] = {}

    def depth(f: str, seen: frozenset) -> int:
        if f in memo:
            return memo[f]
        if f in seen:
            raise ToolError(f"recursion through {f} in the generated code")
        below = max((depth(g, seen | {f}) for g in edges.get(f, ())), default=0)
        memo[f] = nodes.get(f, 0) + below
        return memo[f]

    return depth(root, frozenset())


def measure(src_dir: Path, name: str, cc: str | None = None, opt: str = "-O2",
            size_tool: str = "size", flags: list[str] | None = None) -> Sizes:
    """Sections of every object file; the stack is the deepest call chain from ``NAME_invoke``
    (gcc's ``-fcallgraph-info``; C library calls such as ``expf`` count as zero), or with
    other compilers the invoke frame plus the largest kernel frame. ``flags``: more compiler
    flags (a cross compiler's ``-mcpu=...``)."""
    src_dir = Path(src_dir).resolve()  # the compiler runs in a temporary folder
    compiler = find_compiler(cc)
    if shutil.which(size_tool) is None:
        raise ToolError(f"{size_tool} not found; install binutils (apt-get install binutils)")
    code = const = data = 0
    frames: dict[str, int] = {}
    nodes: dict[str, int] = {}
    edges: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="microforge-size-") as tmp:
        work = Path(tmp)
        for src in sorted(src_dir.glob("*.c")):
            obj = work / (src.stem + ".o")
            cflags = [*(flags or []), *[f for f in CFLAGS if not f.startswith("-O")], opt,
                      "-fstack-usage"]
            base = [compiler, *cflags, f"-I{src_dir}", "-c", str(src), "-o", str(obj)]
            proc = subprocess.run([*base, "-fcallgraph-info=su"], capture_output=True, text=True,
                                  cwd=work)
            if proc.returncode != 0:
                proc = subprocess.run(base, capture_output=True, text=True, cwd=work)
            if proc.returncode != 0:
                raise ToolError(f"compiling {src.name} failed: {proc.stderr.strip()[:200]}")
            for sec, n in _sections(obj, size_tool).items():
                if sec.startswith(".text"):
                    code += n
                elif sec.startswith(".rodata") or sec.startswith(".data.rel.ro"):
                    const += n
                elif sec.startswith((".data", ".bss", "COMMON")):
                    data += n
            ci = work / (src.stem + ".ci")
            if ci.is_file():
                parse_callgraph(ci.read_text(), nodes, edges)
            su = work / (src.stem + ".su")
            if su.is_file():
                for line in su.read_text().splitlines():
                    m = re.match(r".*:(\w+)\t(\d+)\t", line)
                    if m:
                        frames[m.group(1)] = int(m.group(2))
    if f"{name}_invoke" in nodes:
        return Sizes(code, const, data, deepest_stack(f"{name}_invoke", nodes, edges))
    invoke = frames.get(f"{name}_invoke", 0)
    kernels = [v for k, v in frames.items() if k.startswith("mf_")]
    return Sizes(code, const, data, invoke + max(kernels, default=0))
