"""The Cortex-M target objects (``cortex-m4``, ``cortex-m7``, ``cortex-m55``)."""

from __future__ import annotations

from pathlib import Path

from microforge.errors import InputError
from microforge.ir import Graph
from microforge.targets.base import BuildOptions, Measurement
from microforge.targets.cortex_m.firmware import Board, evaluate, write_firmware


class CortexMTarget:
    """A Cortex-M core on a QEMU board: the library plus a semihosting harness is cross-compiled
    with arm-none-eabi-gcc and run under qemu-system-arm; at least one input is always run."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.name = board.target

    def check_options(self, options: BuildOptions) -> None:
        if options.sanitize:
            raise InputError("--sanitize builds for the host only (the sanitizers need an OS)")

    def measure(self, lib_dir: Path, name: str, graph: Graph, verify_n: int,
                options: BuildOptions) -> Measurement:
        files = write_firmware(lib_dir, name, graph, self.name, options.opt, options.dsp)
        fw = evaluate(lib_dir, name, graph, self.name, n=verify_n or 1, opt=options.opt,
                      dsp=options.dsp)
        s = fw.sizes
        return Measurement(
            static_ram_bytes=s.static_ram, stack_bytes=fw.stack_bytes, ram_bytes=fw.ram,
            const_bytes=s.model_constants, code_bytes=s.kernels + s.runtime_glue,
            flash_bytes=s.flash, firmware=fw.as_dict(), check=fw.check, files=files,
        )
