"""Ethos-U (Vela's estimate) against the Cortex-M55 CPU-only build of the same model.

Per model and accelerator configuration: operators on the NPU / on the CPU, Vela's whole-model
cycle estimate and its time at the configured clock, and SRAM (microforge's plan of Vela's region,
the CPU operators' tensors and the variables). Beside it, the Cortex-M55 CPU-only build that
`microforge compile --target cortex-m55 --verify 2` checked byte for byte under QEMU: its
instructions per inference (QEMU -icount estimate) and its RAM. The NPU's CPU operators are not
timed (their instructions are part of the M55 column only when the whole model runs there).
Run: .venv/bin/python benchmarks/npu_vs_cpu.py [--models ...] [--configs ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from shared_models import MODELS  # noqa: E402

from microforge.backends.ethos_u import VelaConfig, compile_npu
from microforge.frontends import read_model
from microforge.report.npu import npu_dict

NAMES = ["hello_world_int8.tflite", "micro_speech_quantized.tflite", "keyword_scrambled.tflite",
         "person_detect.tflite", "trained_lstm_int8.tflite", "dtln_noise_suppression.tflite"]
CONFIGS = ["ethos-u55-128", "ethos-u65-256"]


def m55(model: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-m", "microforge", "compile", str(model), "-o", tmp,
                               "--target", "cortex-m55", "--verify", "2", "--json", "--force"],
                              capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=NAMES)
    ap.add_argument("--configs", nargs="*", default=CONFIGS)
    args = ap.parse_args()
    print("| model | M55 CPU-only: instructions / RAM | config | NPU / CPU ops | NPU estimate "
          "(cycles, time) | SRAM |")
    print("|---|---|---|---|---|---|")
    for name in args.models:
        path = MODELS / name
        cpu = m55(path)
        if "error" in cpu:
            cpu_cell = f"not built: {cpu['error']}"
        else:
            ins = cpu["firmware"]["instructions_per_inference"]["mean"]
            cpu_cell = f"{ins:,} / {cpu['firmware']['ram']['total']:,} B"
        for config in args.configs:
            d = npu_dict(compile_npu(read_model(path), VelaConfig(config), path.read_bytes()))
            info = d["npu"]
            print(f"| {name} | {cpu_cell} | {config} ({info['clock_hz'] / 1e6:g} MHz) | "
                  f"{d['npu_ops']} / {d['cpu_ops']} | {d['npu_cycles_estimate']:,} cycles, "
                  f"{info['npu_time_us_estimate']:,.1f} us | {d['sram_bytes']:,} B |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
