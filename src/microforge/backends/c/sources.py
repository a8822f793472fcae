"""Which C files a generated library needs for the kernel sources its operators use.

The kernels live in three directories of this package: ``portable/`` (the reference C, one
``<stem>.c`` / ``<stem>.h`` per kernel family), and the variants ``x86_sse2/`` and ``arm_dsp/``,
headers that a portable file includes and that replace some of its functions when the compiler
targets that instruction set (see docs/codegen.md, "Kernel sources"). A generated directory is
flat and target-independent: it gets each needed stem's portable files and every header they
include, variants for every target among them, so the same files build portable C, SSE2 on x86-64
and the DSP kernels on Cortex-M.

A number that both C code and Python depend on (a block size, the length of a fixed array in a
params struct, a file magic) is defined once, as a ``#define`` in the C source; Python reads it
from there with :func:`c_define` / :func:`header_define`, so the two cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

SOURCE_DIRS = ("portable", "x86_sse2", "arm_dsp", "arm_mve")
VARIANT_DIRS = SOURCE_DIRS[1:]
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', re.MULTILINE)


def source_dir(name: str) -> Traversable:
    """One of SOURCE_DIRS as a package resource directory."""
    return resources.files("microforge.backends.c") / name


def find_source(file_name: str) -> Traversable | None:
    """The kernel source file of that name in any of SOURCE_DIRS (names are unique across them)."""
    for d in SOURCE_DIRS:
        f = source_dir(d) / file_name
        if f.is_file():
            return f
    return None


def kernel_files(stems: Iterable[str]) -> dict[str, str]:
    """File name -> text of every kernel file the stems need: ``portable/<stem>.h`` and ``.c``
    where they exist, plus the headers those include (``#include "..."``), transitively, from
    any source directory. A quoted include found nowhere is an error in the kernel sources."""
    files: dict[str, str] = {}
    pending = [f"{s}{ext}" for s in stems for ext in (".h", ".c")
               if (source_dir("portable") / f"{s}{ext}").is_file()]
    while pending:
        name = pending.pop(0)
        if name in files:
            continue
        found = find_source(name)
        if found is None:
            raise FileNotFoundError(f"kernel source {name!r} is in none of {', '.join(SOURCE_DIRS)}")
        files[name] = found.read_text()
        pending += [n for n in _INCLUDE.findall(files[name]) if n not in files]
    return dict(sorted(files.items()))


def portable_dir() -> Traversable:
    """The directory of the portable C kernel sources (``mf_*.c`` / ``mf_*.h``)."""
    return source_dir("portable")


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
