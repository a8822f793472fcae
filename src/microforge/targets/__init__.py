"""Compile targets. ``host`` builds with the machine's C compiler (``codegen/build.py``,
``codegen/sizes.py``); the Cortex-M targets cross-compile and run under QEMU (``cortex_m.py``; sizes from the
linker map in ``mapfile.py``; harness, startup and linker scripts in ``cortex_m/``)."""

from microforge.targets.cortex_m.firmware import BOARDS

TARGETS = ["host", *BOARDS]
