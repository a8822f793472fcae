"""What a backend is, and what compiling produces.

A backend turns the operators a partition assigned to it into something a target runs: the C
backend (``backends/c``) writes a standalone C99 library; an NPU backend would hand its operators
to the NPU compiler and leave the rest to the C backend. Each backend says which operators it
supports (``supports``), plans and emits (``emit``: memory plan and files), and its result is
built, verified and measured by a target (``microforge.targets``). The driver
(``microforge.compiler``) runs these steps and collects one :class:`CompileReport`, which
``microforge.report`` renders as text or JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from microforge.ir import Graph


class Backend(Protocol):
    """A code generator for the operators a partition assigns it. The steps, in order:
    ``supports`` (per operator), ``plan`` (memory plan and code, in memory), ``emit`` (files),
    ``build_and_verify`` (on a target: build, run the reference inputs, compare, measure) and
    ``report``."""

    name: str

    def supports(self, graph: Graph, index: int) -> str | None:
        """None when operator ``index`` of the main subgraph can run here, else why not."""

    def plan(self, graph: Graph, ops: list[int], name: str, description: str) -> Any:
        """Plan memory and generate the code for operators ``ops``."""

    def emit(self, planned: Any, out_dir: Path, name: str, force: bool) -> Any:
        """Write what ``plan`` produced into ``out_dir``."""

    def build_and_verify(self, library: Any, graph: Graph, target: Any, verify: int,
                         options: Any) -> Any:
        """Build on ``target``, run ``verify`` reference inputs, compare and measure."""

    def report(self, library: Any, measured: Any, graph: Graph, target: Any,
               verify: int) -> CompileReport:
        """Everything found out, as one report."""


@dataclass
class CompileReport:
    """Everything ``microforge compile`` found out: what was written, the memory plan, what the
    target measured (bytes), and the verification against the Python runtime.

    ``to_dict`` is the ``--json`` object; optional fields appear only when they were measured.
    """

    name: str
    directory: str
    files: list[str]
    target: str
    arena_bytes: int
    arena_lower_bound_bytes: int
    arena_tflm_strategy_bytes: int
    planner: str
    state_bytes: int
    static_ram_bytes: int
    stack_bytes_estimate: int
    ram_bytes: int
    const_bytes: int
    code_bytes: int
    io_bytes: int
    macs: int
    ops: list[dict] = field(default_factory=list)
    verified: int = 0
    flash_bytes: int | None = None
    firmware: dict | None = None
    differing_bytes: int | None = None
    first_difference: str = ""
    tflm_arena_bytes: int | None = None
    npu: dict | None = None  # an Ethos-U compile: report.npu.npu_dict's keys, merged into the JSON
    failure: str | None = None  # why verification failed (not part of the JSON object)
    patch_stages: list[dict] = field(default_factory=list)  # convolutions run band by band

    @property
    def ram_with_io_bytes(self) -> int:
        """RAM plus the caller's input and output buffers (which TFLM keeps in its arena)."""
        return self.ram_bytes + self.io_bytes

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "name": self.name, "directory": self.directory, "files": self.files,
            "target": self.target,
            "arena_bytes": self.arena_bytes,
            "arena_lower_bound_bytes": self.arena_lower_bound_bytes,
            "arena_tflm_strategy_bytes": self.arena_tflm_strategy_bytes,
            "planner": self.planner, "state_bytes": self.state_bytes,
            "static_ram_bytes": self.static_ram_bytes,
            "stack_bytes_estimate": self.stack_bytes_estimate,
            "ram_bytes": self.ram_bytes, "const_bytes": self.const_bytes,
            "code_bytes": self.code_bytes,
        }
        if self.flash_bytes is not None:
            out["flash_bytes"] = self.flash_bytes
        if self.firmware is not None:
            out["firmware"] = self.firmware
        out.update({"io_bytes": self.io_bytes, "macs": self.macs, "ops": self.ops,
                    "verified": self.verified})
        if self.differing_bytes is not None:
            out["differing_bytes"] = self.differing_bytes
        if self.tflm_arena_bytes is not None:
            out["tflm_arena_bytes"] = self.tflm_arena_bytes
        if self.patch_stages:
            out["patch_stages"] = self.patch_stages
        if self.npu is not None:
            out.update(self.npu)
        return out
