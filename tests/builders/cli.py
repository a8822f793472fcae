"""Running the ``microforge`` command line in a subprocess, and checking its one-line errors."""

from __future__ import annotations

import subprocess
import sys


def cli(*args, cwd=None):
    proc = subprocess.run(
        [sys.executable, "-m", "microforge", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(code, err, expected_code, *words):
    assert code == expected_code, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], lines[0]
