"""`microforge demo` runs the whole pipeline on the package's own model and checks itself."""

import subprocess
import sys


def test_demo_end_to_end(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "microforge", "demo", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "256/256 samples identical, 0 differing bytes" in proc.stdout
    assert "200 random inputs, 0 differing bytes" in proc.stdout
    assert (tmp_path / "demo_kws.tflite").is_file() and (tmp_path / "c" / "demo_kws.c").is_file()
