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
kernel workspace (runtime) ``MICROFORGE_MAX_WORKSPACE_BYTES`` 1 GiB
=========================  ==============================  ==================================

The workspace limit bounds what a runtime kernel derives from shapes that are each within the
tensor limit (a filter tiled over a 3-million-column input, a per-block window buffer): it is
checked before such an array is allocated.
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
    "MAX_WORKSPACE_BYTES": 1 << 30,
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
WORKSPACE_BYTES = Limit("MAX_WORKSPACE_BYTES", "kernel workspace size (bytes)")


def check_workspace(shape: tuple[int, ...], itemsize: int, where: str) -> None:
    """Refuse (:class:`ModelError`) an array of ``shape`` past the workspace limit, before any
    allocation; Python integers, so a hostile shape cannot overflow the product."""
    count = 1
    for n in shape:
        count *= max(int(n), 0)
    WORKSPACE_BYTES.check(count * int(itemsize), where)
