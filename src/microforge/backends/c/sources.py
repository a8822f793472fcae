"""The portable C kernel sources shipped in ``portable/``, and the constants Python shares with C.

A number that both C code and Python depend on (a block size, the length of a fixed array in a
params struct, a file magic) is defined once, as a ``#define`` in the C source; Python reads it
from there with :func:`c_define` / :func:`header_define`, so the two cannot drift.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable


def portable_dir() -> Traversable:
    """The directory of the portable C kernel sources (``mf_*.c`` / ``mf_*.h``)."""
    return resources.files("microforge.backends.c") / "portable"


def c_define(source: Traversable, name: str) -> int:
    """The value of ``#define name <integer literal>`` (decimal or hex, optional ``u`` / ``l``
    suffixes, optional trailing comment) in the C file ``source``; raises ``LookupError`` when the
    file does not define it so."""
    literal = r"(0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*"
    pattern = rf"^#define\s+{re.escape(name)}\s+{literal}\s*(?:/[*/].*)?$"
    match = re.search(pattern, source.read_text(), re.MULTILINE)
    if match is None:
        raise LookupError(f"{source.name} has no integer #define {name}")
    return int(match.group(1), 0)


@cache
def header_define(header: str, name: str) -> int:
    """:func:`c_define` of a header in ``portable/``."""
    return c_define(portable_dir() / header, name)
