"""Resource limits on untrusted model files, each overridable by an environment variable.

A model file is untrusted input: a hostile one claims a 2^31-element tensor or a 4 GB buffer. These
limits are checked before anything is allocated, run or written as C, and a model past one is a
:class:`ModelError` naming the limit and its variable. Defaults are far above what a
microcontroller model needs (``docs/hostile-inputs.md``).

=========================  ==============================  ==================================
limit                      variable                        default
=========================  ==============================  ==================================
model file size            ``MICROFORGE_MAX_FILE_BYTES``   1 GiB
one tensor's size          ``MICROFORGE_MAX_TENSOR_BYTES`` 256 MiB
operators per subgraph     ``MICROFORGE_MAX_OPERATORS``    100,000
tensor rank                ``MICROFORGE_MAX_RANK``         8
planned arena (C backend)  ``MICROFORGE_MAX_ARENA_BYTES``  256 MiB
=========================  ==============================  ==================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from microforge.errors import ModelError

DEFAULTS = {
    "MAX_FILE_BYTES": 1 << 30,
    "MAX_TENSOR_BYTES": 256 << 20,
    "MAX_OPERATORS": 100_000,
    "MAX_RANK": 8,
    "MAX_ARENA_BYTES": 256 << 20,
}


@dataclass(frozen=True)
class Limit:
    """One limit: ``name`` (``MAX_TENSOR_BYTES``), what it bounds, in words."""

    name: str
    what: str

    @property
    def variable(self) -> str:
        return f"MICROFORGE_{self.name}"

    @property
    def value(self) -> int:
        """The environment variable's value when set to a positive integer, else the default."""
        raw = os.environ.get(self.variable, "")
        try:
            value = int(raw.replace("_", ""), 0)
        except ValueError:
            return DEFAULTS[self.name]
        return value if value > 0 else DEFAULTS[self.name]

    def check(self, amount: int, where: str) -> None:
        """Raise :class:`ModelError` when ``amount`` exceeds the limit."""
        if amount > self.value:
            raise ModelError(
                f"{where}: {self.what} {amount:,} exceeds the limit of {self.value:,}; if the "
                f"model is genuine, raise it with {self.variable}"
            )


FILE_BYTES = Limit("MAX_FILE_BYTES", "file size (bytes)")
TENSOR_BYTES = Limit("MAX_TENSOR_BYTES", "tensor size (bytes)")
OPERATORS = Limit("MAX_OPERATORS", "operator count")
RANK = Limit("MAX_RANK", "tensor rank")
ARENA_BYTES = Limit("MAX_ARENA_BYTES", "planned arena size (bytes)")
