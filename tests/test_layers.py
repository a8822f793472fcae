"""The package keeps its layers (docs/architecture.md): import-linter checks the contracts in
pyproject.toml, so the picture in the docs and the imports in the code cannot drift."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_nothing_imports_upward():
    beside = Path(sys.executable).parent / "lint-imports"  # the [test] extra's import-linter
    tool = str(beside) if beside.exists() else shutil.which("lint-imports")
    if tool is None:
        pytest.fail("import-linter is not installed (it is in the [test] extra)")
    proc = subprocess.run([tool, "--config", "pyproject.toml", "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_layer_contract_names_every_package():
    """A new top-level package must be placed in a layer, or the contract would not check it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = config["contracts"][0]["layers"]
    named = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    package = ROOT / "src" / "microforge"
    present = {p.stem for p in package.iterdir()
               if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py"
                                                                    and p.stem != "__init__")}
    assert present == named
