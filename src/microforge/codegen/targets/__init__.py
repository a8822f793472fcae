"""Compile targets. ``host`` builds with the machine's C compiler (``codegen/build.py``,
``codegen/sizes.py``); the Cortex-M targets cross-compile and run under QEMU (``cortex_m.py``)."""

from microforge.codegen.targets.cortex_m import BOARDS

TARGETS = ["host", *BOARDS]
