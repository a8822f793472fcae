"""The standalone C library of a Vela-compiled model: ``NAME_invoke`` runs the CPU operators with
the C backend's kernels and hands each NPU subgraph to the Ethos-U driver.

The C is generated from Vela's ``.tflite`` (read back by microforge): the CPU operators there are
the original ones, compiled by the C backend; each ``ethos-u`` operator is emitted by
``backends/c/ops/ethos_u.py`` (its command stream and flash as 16-byte aligned constants, a call of
``ethosu_invoke_v3``). The arena is the Ethos-U memory plan (``memory.py``): Vela's scratch region
at offset 0 with every tensor Vela placed at its offset, the CPU-only tensors and the CPU kernels'
scratch after it; an input or output of the model that Vela placed in its region is copied there
from the caller's buffer (and back) by ``NAME_invoke``.

The library includes ``ethosu_driver.h`` from the user's ethos-u-core-driver, whose include
directory the generated Makefile takes as ``ETHOSU_DRIVER_DIR``; no driver code is part of it. To
measure the library's code size microforge compiles it against :data:`DRIVER_DECLARATIONS`, the three
declarations it calls, written from the driver's documented interface (never shipped).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from microforge.backends.c.compiler import CompiledModel, FixedPlan, Generated, generate, write_library
from microforge.backends.c.ops.ethos_u import ALIGN, ETHOS_U_EMITTER
from microforge.backends.ethos_u.compiled import NpuModel
from microforge.backends.ethos_u.memory import ETHOS_U, plan_npu_memory
from microforge.ir import Subgraph
from microforge.planner.lifetimes import OpMemory
from microforge.targets import BuildOptions
from microforge.targets.cortex_m.firmware import BOARDS
from microforge.targets.sizes import Sizes, measure

DRIVER_DIR = "ETHOSU_DRIVER_DIR"
CAN_FAIL = "the Ethos-U driver cannot be reserved or reports an error for an NPU subgraph"
CODE_TARGET = "cortex-m55"  # the CPU the code size is measured for (the U55/U65's host core)

MAKEFILE_EXTRA = f"""
# The Ethos-U driver: {DRIVER_DIR} is the include directory of your ethos-u-core-driver (the
# one holding ethosu_driver.h), e.g. `make {DRIVER_DIR}=../ethos-u-core-driver/include
# CC=arm-none-eabi-gcc CFLAGS="-mcpu=cortex-m55 -mthumb -O2"`; link the driver into the firmware.
ifndef {DRIVER_DIR}
$(error set {DRIVER_DIR} to the include directory of your ethos-u-core-driver (ethosu_driver.h))
endif
override CFLAGS += -I$({DRIVER_DIR})
"""

CMAKE_EXTRA = f"""set({DRIVER_DIR} "" CACHE PATH "include directory of ethos-u-core-driver (ethosu_driver.h)")
if(NOT {DRIVER_DIR})
  message(FATAL_ERROR "set {DRIVER_DIR} to the include directory of your ethos-u-core-driver")
endif()
target_include_directories(${{PROJECT_NAME}} PRIVATE ${{{DRIVER_DIR}}})
"""

#: The driver functions the library calls, as the public ethos-u-core-driver header declares them
#: (``base_addr`` is ``const uint64_t *`` in newer headers, ``uint64_t *const`` in older ones; the
#: library passes a non-const array, which either accepts). Used only to measure code size.
DRIVER_DECLARATIONS = """/* The Ethos-U driver functions microforge's library calls (from the driver's
 * documented public interface), for measuring the library's size. Not the driver. */
#ifndef ETHOSU_DRIVER_H
#define ETHOSU_DRIVER_H
#include <stddef.h>
#include <stdint.h>
struct ethosu_driver;
struct ethosu_driver *ethosu_reserve_driver(void);
void ethosu_release_driver(struct ethosu_driver *drv);
int ethosu_invoke_v3(struct ethosu_driver *drv, const void *custom_data_ptr,
                     const int custom_data_size, const uint64_t *base_addr,
                     const size_t *base_addr_size, const int num_base_addr, void *user_arg);
#endif
"""


def generate_library(npu: NpuModel, name: str, description: str) -> Generated:
    """Plan and emit Vela's graph as C (the arena planned by :func:`plan_npu_memory` with the CPU
    kernels' scratch)."""

    def planner(sg: Subgraph, memory: list[OpMemory]) -> FixedPlan:
        planned = plan_npu_memory(npu.optimized, memory)
        return FixedPlan(planned.layout, planned.plan, ALIGN)

    return generate(npu.optimized, name, description, planner, {ETHOS_U: ETHOS_U_EMITTER}, CAN_FAIL)


def write_npu_library(npu: NpuModel, out: Path, name: str, description: str,
                      force: bool = False) -> CompiledModel:
    """Write ``NAME.c`` / ``NAME.h``, the kernel sources and the build files into ``out``."""
    return write_library(generate_library(npu, name, description), name, out, force,
                         MAKEFILE_EXTRA, CMAKE_EXTRA)


def measure_code(lib_dir: Path, name: str, options: BuildOptions) -> tuple[Sizes, str]:
    """Code and constant bytes of the library's objects built for a Cortex-M55 with
    arm-none-eabi-gcc (``options``: the optimisation level and the Arm DSP kernels of the CPU
    part), against :data:`DRIVER_DECLARATIONS`; without arm-none-eabi-gcc, with the host's C
    compiler. Returns the sizes and how they were built."""
    cross = shutil.which("arm-none-eabi-gcc") is not None and shutil.which("arm-none-eabi-size")
    with tempfile.TemporaryDirectory(prefix="microforge-npu-size-") as tmp:
        work = Path(tmp)
        for f in lib_dir.iterdir():
            if f.suffix in (".c", ".h"):
                shutil.copy(f, work / f.name)
        (work / "ethosu_driver.h").write_text(DRIVER_DECLARATIONS)
        if not cross:
            return (measure(work, name, None, options.opt),
                    f"host C compiler {options.opt} (arm-none-eabi-gcc not found: apt-get install "
                    "gcc-arm-none-eabi for the Cortex-M55 figure)")
        flags = list(BOARDS[CODE_TARGET].cpu_flags) + ([] if options.dsp else ["-DMF_NO_DSP"])
        sizes = measure(work, name, "arm-none-eabi-gcc", options.opt, "arm-none-eabi-size", flags)
    return sizes, (f"{CODE_TARGET} (arm-none-eabi-gcc {options.opt}"
                   f"{'' if options.dsp else ', no DSP kernels'})")
