"""Compile targets: where a generated library is built, verified and measured.

``host`` builds with this machine's C compiler (``host.py``, sizes in ``sizes.py``); the Cortex-M
targets cross-compile and run under QEMU (``cortex_m/``: firmware build and run, linker-map sizes,
harness, startup code and linker scripts). Each is a :class:`~microforge.targets.base.Target`
object in ``TARGETS``.
"""

from __future__ import annotations

from microforge.errors import InputError
from microforge.targets.base import BuildOptions, Measurement, Target
from microforge.targets.cortex_m.firmware import BOARDS
from microforge.targets.cortex_m.target import CortexMTarget
from microforge.targets.host import HostTarget

TARGETS: dict[str, Target] = {
    "host": HostTarget(),
    **{name: CortexMTarget(board) for name, board in BOARDS.items()},
}


def get_target(name: str) -> Target:
    """The target called ``name`` (an ``InputError`` listing the choices otherwise)."""
    if name not in TARGETS:
        raise InputError(f"unknown target {name!r} (choose from {', '.join(TARGETS)})")
    return TARGETS[name]


__all__ = ["TARGETS", "BuildOptions", "Measurement", "Target", "get_target"]
