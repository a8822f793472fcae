"""Cortex-M firmware table: per shared model, flash and RAM of the -Os firmware beside TFLM's arena,
and QEMU's instruction estimate per inference with and without the DSP kernels (-O2).

Runs `microforge compile --target ... --verify` for each build (so every number comes from a
firmware that was just checked byte for byte against the Python runtime under QEMU).
Run: .venv/bin/python benchmarks/cortex_m_table.py [--target cortex-m4] [--models ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from shared_models import COMPILED_MODELS, MODELS  # noqa: E402

NAMES = COMPILED_MODELS


def build(model: Path, out: Path, target: str, opt: str, dsp: bool, tflm: bool) -> dict:
    cmd = [sys.executable, "-m", "microforge", "compile", str(model), "-o", str(out), "--target",
           target, "--opt", opt, "--verify", "5", "--json", "--force"]
    if not dsp:
        cmd.append("--no-dsp")
    if tflm:
        cmd.append("--compare-tflm")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip())
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cortex-m4")
    parser.add_argument("--models", nargs="*", default=NAMES)
    args = parser.parse_args()
    print(f"| model ({args.target}) | flash B (-Os) | RAM B (-Os) | RAM + I/O B | TFLM arena B | "
          "instr. -O2 DSP | instr. -O2 portable | verified |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="mf-cm-") as tmp:
        for name in args.models:
            stem = name.removesuffix(".tflite")
            try:
                small = build(MODELS / name, Path(tmp) / f"{stem}_os", args.target, "Os", True, True)
                fast = build(MODELS / name, Path(tmp) / f"{stem}_dsp", args.target, "O2", True, False)
                plain = build(MODELS / name, Path(tmp) / f"{stem}_c", args.target, "O2", False, False)
            except RuntimeError as exc:
                print(f"| {stem} | failed: {exc} |||||||")
                continue
            fw = small["firmware"]
            ok = all(r["differing_bytes"] == 0 for r in (small, fast, plain))

            def instr(r: dict) -> str:
                return f"{r['firmware']['instructions_per_inference']['mean']:,}"

            print(f"| {stem} | {fw['flash']['total']:,} | {fw['ram']['total']:,} | "
                  f"{fw['ram']['total'] + small['io_bytes']:,} | {small['tflm_arena_bytes']:,} | "
                  f"{instr(fast)} | {instr(plain)} | {'yes' if ok else 'NO'} |", flush=True)
    print("\nInstructions: QEMU -icount estimate (instructions, not cycles). RAM = arena + static "
          "data + measured stack high-water mark; RAM + I/O adds the caller's buffers, which "
          "TFLM's arena holds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
