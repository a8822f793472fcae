"""`microforge report` wall time and HTML size: the whole command (a new Python process, as a user
runs it) on person_detect and the other shared models, plus where the time goes in-process.
Target: person_detect under 5 s on the development machine."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared_models import MODELS

REPEATS = 5
SIZE_MODELS = ["person_detect.tflite", "micro_speech_quantized.tflite", "hello_world_int8.tflite",
               "trained_lstm_int8.tflite", "keyword_scrambled.tflite", "audio_preprocessor_int8.tflite"]


def command_time(model: Path, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "microforge", "report", str(model), "-o", str(out), "--force"],
                   check=True, capture_output=True)
    return time.perf_counter() - start, out.stat().st_size


def phases(model: Path) -> dict[str, float]:
    from microforge.backends.c.compiler import plan_memory
    from microforge.frontends import read_model
    from microforge.report.html import render_html, report_data

    t = {}
    start = time.perf_counter()
    graph = read_model(model)
    t["read"] = time.perf_counter() - start
    start = time.perf_counter()
    plan_memory(graph)
    t["memory plan (C backend plan_memory)"] = time.perf_counter() - start
    start = time.perf_counter()
    data = report_data(graph, title=model.name)
    t["report_data (plan + dot layout + stats)"] = time.perf_counter() - start
    start = time.perf_counter()
    render_html(data)
    t["render_html"] = time.perf_counter() - start
    return t


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.html"
        pd = MODELS / "person_detect.tflite"
        times = [command_time(pd, out)[0] for _ in range(REPEATS)]
        print(f"microforge report person_detect.tflite: median {statistics.median(times):.2f} s, "
              f"min {min(times):.2f} s, max {max(times):.2f} s over {REPEATS} runs (target < 5 s)")
        print("\nin-process phases, person_detect:")
        for name, secs in phases(pd).items():
            print(f"  {name:<42} {secs:6.3f} s")
        from microforge.frontends import read_model

        print(f"\n{'model':<34} {'ops':>4} {'HTML bytes':>11} {'wall s':>7}")
        for name in SIZE_MODELS:
            secs, size = command_time(MODELS / name, out)
            ops = len(read_model(MODELS / name).main.operators)
            print(f"{name:<34} {ops:>4} {size:>11,} {secs:>7.2f}")


if __name__ == "__main__":
    main()
