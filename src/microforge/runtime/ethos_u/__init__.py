"""An Ethos-U command-stream emulator: Vela's ``ethos-u`` operator (command stream, flash,
scratch areas) executed in numpy over a batch, so a Vela-compiled model runs in the runtime.

It is not silicon: it executes the register command stream as the public register definitions
and Vela's generator describe it (``docs/ethos-u.md`` lists what is modelled). It lives in the
runtime (not in ``backends/ethos_u``) because the runtime's ``ethos-u`` kernel runs it and the
runtime may not import the backends. Vela is needed (its register enums and weight decoder):
``pip install 'microforge[npu]'``.

``stream.py`` parses the driver payload and the cmd0/cmd1 words; ``machine.py`` keeps the
register state and runs the commands (DMA, SHRAM tables); ``featuremap.py`` reads and writes
NHWC/NHCWB16 feature maps with tiles; ``weights.py`` decodes weight and scale streams;
``ops.py`` the operations; ``output.py`` their common output stage (activation functions and
tables); ``numerics.py`` the scaling and rounding.
"""

from __future__ import annotations

import numpy as np

from microforge.runtime.ethos_u.machine import Machine
from microforge.runtime.ethos_u.stream import MISSING_VELA, Command, Payload, parse_payload

__all__ = ["MISSING_VELA", "Command", "Machine", "Payload", "parse_payload", "run_payload"]


def run_payload(payload: Payload, regions: dict[int, np.ndarray], where: str = "command stream",
                ncores: int | None = None, cache: dict | None = None) -> None:
    """Execute ``payload`` on ``regions`` (region index -> ``(batch or 1, bytes)`` uint8 array,
    updated in place)."""
    Machine(payload, regions, where, ncores, cache).run()
