"""The Arm Ethos-U micro-NPU through Vela (optional extra ``microforge[npu]``; Vela is imported
only when it is used).

``vela.py`` calls Vela as a library; ``placement.py`` reads which original operator went where,
why, and at what cycle cost; ``compiled.py`` reads Vela's ``.tflite`` back; ``memory.py`` plans
one arena for Vela's region and the CPU operators; ``backend.py`` is the partitioning backend.
"""

from __future__ import annotations

from microforge.backends.ethos_u.backend import EthosUBackend
from microforge.backends.ethos_u.compiled import NpuModel, compile_npu
from microforge.backends.ethos_u.placement import OpPlacement
from microforge.backends.ethos_u.vela import (
    DEFAULT_CONFIG,
    KNOWN_ACCELERATORS,
    MISSING_VELA,
    VelaConfig,
    accelerators,
)

__all__ = ["DEFAULT_CONFIG", "KNOWN_ACCELERATORS", "MISSING_VELA", "EthosUBackend", "NpuModel",
           "OpPlacement", "VelaConfig", "accelerators", "compile_npu"]
