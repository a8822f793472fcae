"""No module of ``src/microforge`` imports a private name (``_name``, not dunder) from another
top-level package of microforge.

A package is the first component after ``microforge.`` (``runtime``, ``backends``, ...); a top-level
module such as ``microforge.fixedpoint`` is its own package. Every import form is checked, relative
ones resolved: ``from a.b import _c``, ``from a._b import c``, ``import a._b`` and
``from . import _c``. What crosses a package boundary is public and documented; a private helper
another package needs is made public where it lives.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "microforge"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package(dotted: str) -> str:
    """The top-level package of a microforge module path ('' for ``microforge`` itself)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path, src: Path) -> tuple[str, bool]:
    """(dotted module name, is a package ``__init__``)."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted paths an import statement names: ``import a.b`` -> a.b; ``from a import b``
    -> a.b (relative imports resolved against ``module``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    return [f"{source}.{alias.name}" for alias in node.names]


def private_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """The private cross-package imports of one module's source, as ``line: dotted.path``."""
    found = []
    here = _package(module)
    for node in ast.walk(ast.parse(source)):
        for dotted in _imported(node, module, is_package):
            if dotted != ROOT and not dotted.startswith(ROOT + "."):
                continue
            if _package(dotted) != here and any(_is_private(p) for p in dotted.split(".")[1:]):
                found.append(f"{node.lineno}: {dotted}")
    return found


def test_no_private_import_crosses_a_package():
    problems = []
    for path in sorted((SRC / ROOT).rglob("*.py")):
        module, is_package = _module_name(path, SRC)
        problems += [f"{path.relative_to(SRC)}:{hit}"
                     for hit in private_imports(path.read_text(), module, is_package)]
    assert not problems, "private names imported across packages:\n" + "\n".join(problems)


@pytest.mark.parametrize("source, module, expected", [
    ("from microforge.runtime.kernels.lstm import _CELL, Kernel",
     "microforge.backends.c.ops.lstm", ["1: microforge.runtime.kernels.lstm._CELL"]),
    ("from microforge.passes._graph import compact", "microforge.quantize.convert",
     ["1: microforge.passes._graph.compact"]),
    ("import microforge.passes._graph", "microforge.quantize.convert",
     ["1: microforge.passes._graph"]),
    ("from microforge import _secret", "microforge.cli", ["1: microforge._secret"]),
    ("from ...runtime.kernels import _x", "microforge.backends.c.emit",
     ["1: microforge.runtime.kernels._x"]),
    ("def f():\n    from microforge.fixedpoint import _helper\n", "microforge.ir.quant",
     ["2: microforge.fixedpoint._helper"]),
    # allowed: the same package, public names, dunders, other libraries
    ("from microforge.passes._graph import compact", "microforge.passes.remove_dead", []),
    ("from . import _manager", "microforge.passes", []),
    ("from microforge.runtime.kernels.lstm import LstmIntParams", "microforge.backends.c.ops.lstm",
     []),
    ("from microforge import __version__", "microforge.cli", []),
    ("from numpy._core import _x", "microforge.ir.graph", []),
])
def test_checker_sees_every_form(source, module, expected):
    is_package = module == "microforge.passes"
    assert private_imports(source, module, is_package) == expected
