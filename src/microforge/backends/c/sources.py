"""The portable C kernel sources shipped in ``portable/``, and the constants Python shares with them.

A limit that both the C kernels and their emitters depend on (a block size, the length of a
fixed array in a params struct) is defined once, as a ``#define`` in the kernel's header; the
emitters read it from there with :func:`header_define`, so the two cannot drift.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable


def portable_dir() -> Traversable:
    """The directory of the portable C kernel sources (``mf_*.c`` / ``mf_*.h``)."""
    return resources.files("microforge.backends.c") / "portable"


@cache
def header_define(header: str, name: str) -> int:
    """The integer value of ``#define name <integer>`` in ``portable/header``; raises
    ``LookupError`` when the header does not define it so."""
    text = (portable_dir() / header).read_text()
    match = re.search(rf"^#define\s+{re.escape(name)}\s+(\d+)\s*(?:/[*/].*)?$", text, re.MULTILINE)
    if match is None:
        raise LookupError(f"{header} has no integer #define {name}")
    return int(match.group(1))
