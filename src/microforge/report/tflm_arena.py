"""TFLM's arena for a model, read from the tflite-micro package's ``print_allocations`` output
(run in a subprocess: the C++ runtime prints to the process's stdout)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from microforge.errors import ToolError

_SCRIPT = """
import sys
from tflite_micro.python.tflite_micro import runtime
data = open(sys.argv[1], 'rb').read()
interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 4 << 20))
interp.print_allocations()
"""


def tflm_arena_bytes(model_path: str | Path) -> int:
    """TFLM's total arena allocation (head: activations, tail: persistent data) for the model."""
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        raise ToolError(
            "--compare-tflm needs the tflite-micro package: pip install 'microforge[verify]'"
        ) from None
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(model_path)],
                          capture_output=True, text=True, timeout=300)
    match = re.search(r"Arena allocation total (\d+) bytes", proc.stdout + proc.stderr)
    if proc.returncode != 0 or match is None:
        detail = (proc.stderr.strip().splitlines() or ["no allocation report"])[-1]
        raise ToolError(f"tflite-micro could not load the model: {detail}")
    return int(match.group(1))
