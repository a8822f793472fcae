"""The test tree's own layout: directories mirror ``src/microforge`` packages, every directory is a
package, and test modules share helpers only through ``tests/builders`` (or a private helper module
beside them, such as ``tests/runtime/_parity.py``), never by importing another ``test_*`` module
or a ``_private`` name."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src" / "microforge"
SHARED = {"builders", "fuzz"}  # test-only packages with no source twin


def _dirs() -> list[Path]:
    return sorted(d for d in TESTS.rglob("*") if d.is_dir() and d.name != "__pycache__")


def _imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every ``from tests... import name`` and ``import tests...``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tests"):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "") for alias in node.names
                      if alias.name.startswith("tests")]
    return found


def test_every_test_directory_is_a_package():
    assert [d for d in _dirs() if not (d / "__init__.py").is_file()] == []


def test_test_directories_mirror_the_source_packages():
    stray = [d.relative_to(TESTS) for d in _dirs()
             if d.relative_to(TESTS).parts[0] not in SHARED
             and not (SRC / d.relative_to(TESTS)).is_dir()]
    assert stray == [], f"test directories without a src/microforge twin: {stray}"


def test_no_test_module_imports_another_or_a_private_name():
    problems = []
    for path in sorted(TESTS.rglob("*.py")):
        here = path.relative_to(TESTS.parent).parent
        for line, module, name in _imports(path):
            parts = module.split(".")
            where = f"{path.relative_to(TESTS.parent)}:{line}: {module} {name}".rstrip()
            if parts[-1].startswith("test_") or name.startswith("test_"):
                problems.append(f"{where} (a test module)")
            elif name.startswith("_"):
                problems.append(f"{where} (a private name)")
            elif parts[-1].startswith("_") and Path(*parts[:-1]) != here:
                problems.append(f"{where} (a private helper of another directory)")
    assert problems == [], "\n".join(problems)
