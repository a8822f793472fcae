"""What a compile target is: a place where a generated library is built, run on the reference
inputs, checked byte for byte and measured (flash, RAM, stack, instructions).

A target is an object with a ``name`` (the ``--target`` value), ``check_options`` and ``measure``;
``microforge.targets.TARGETS`` lists them. The C backend hands a target a library directory; the
target says what it costs there and whether it computes what the Python runtime computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from microforge.ir import Graph
from microforge.runtime.reference import VerifyResult


@dataclass(frozen=True)
class BuildOptions:
    """How to build for a target: gcc optimisation level, Arm DSP kernels (Cortex-M), and the
    address/undefined-behaviour sanitizers (host)."""

    opt: str = "-O2"
    dsp: bool = True
    sanitize: bool = False


@dataclass
class Measurement:
    """What a target measured of one built library (sizes in bytes)."""

    static_ram_bytes: int  # arena, state and other static data
    stack_bytes: int  # deepest invoke stack: an estimate (host) or a measured high-water mark
    ram_bytes: int
    const_bytes: int  # the model's constant data
    code_bytes: int
    flash_bytes: int | None = None  # the whole firmware image's flash (Cortex-M)
    firmware: dict | None = None  # the full breakdown of a firmware build (Cortex-M)
    check: VerifyResult | None = None  # the byte-for-byte comparison, when inputs were run
    files: list[str] = field(default_factory=list)  # files the target added to the directory


class Target(Protocol):
    """A compile target (host, a Cortex-M core, ...)."""

    name: str

    def check_options(self, options: BuildOptions) -> None:
        """Raise ``InputError`` for options this target cannot honour."""

    def measure(self, lib_dir: Path, name: str, graph: Graph, verify: int,
                options: BuildOptions) -> Measurement:
        """Build the library in ``lib_dir`` for this target, run ``verify`` reference inputs
        through it (a target may always run at least one) and measure it."""
