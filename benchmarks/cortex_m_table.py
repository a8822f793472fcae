"""Cortex-M firmware table: per model, flash and RAM of the -Os firmware beside TFLM's arena, QEMU's
instruction estimate per inference with and without the DSP kernels (-O2), instructions per MAC,
and a cycle estimate with the time it gives at a clock (``--clock-mhz``; default 120 MHz for the
Cortex-M4, 160 MHz for the Cortex-M55).

Models: the shared ones and three networks built in the tests with published layer shapes
(``tests/builders/mlperf_tiny.py``: the MLPerf Tiny KWS DS-CNN, MobileNetV1-0.25 at 96x96 and
the MLPerf Tiny IC ResNet-8), int8, quantized by microforge.

Runs `microforge compile --target ... --verify` for each build (so every number comes from a
firmware that was just checked byte for byte against the Python runtime under QEMU). The cycle
estimate prices an instruction-class profile of one traced inference of the -O2 DSP build
(``microforge.targets.cortex_m.cycles``) and scales it to the measured instruction count.
Run: .venv/bin/python benchmarks/cortex_m_table.py [--target cortex-m4] [--models ...] [--clock-mhz F]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from shared_models import COMPILED_MODELS, MODELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders.mlperf_tiny import BUILDERS, write  # noqa: E402

from microforge.frontends.tflite.reader import read_tflite  # noqa: E402
from microforge.ir.ops import count_macs  # noqa: E402
from microforge.runtime.reference import reference  # noqa: E402
from microforge.targets.cortex_m import cycles  # noqa: E402
from microforge.targets.cortex_m.firmware import build_firmware, qemu_timeout  # noqa: E402

NAMES = [*BUILDERS, *COMPILED_MODELS]


def build(model: Path, out: Path, target: str, opt: str, dsp: bool, tflm: bool) -> dict:
    cmd = [sys.executable, "-m", "microforge", "compile", str(model), "-o", str(out), "--target",
           target, "--opt", opt, "--verify", "5", "--json", "--force"]
    if not dsp:
        cmd.append("--no-dsp")
    if tflm:
        cmd.append("--compare-tflm")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip())
    return json.loads(proc.stdout)


def profile(model: Path, out: Path, target: str, work: Path) -> cycles.Profile:
    """The instruction-class profile of one inference of the -O2 DSP library in ``out``."""
    graph = read_tflite(model)
    name = model.stem
    elf = build_firmware(out, name, graph, target, work, "-O2", True)
    ref = reference(graph, 1, 0)
    return cycles.profile_firmware(elf, target, ref.input_bytes(), ref.total, work,
                                   timeout=20 * qemu_timeout(graph, 1))


def model_path(name: str, tmp: Path) -> Path:
    return write(name, tmp) if name in BUILDERS else MODELS / name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="cortex-m4", choices=sorted(cycles.COSTS))
    parser.add_argument("--models", nargs="*", default=NAMES)
    parser.add_argument("--clock-mhz", type=float, default=None,
                        help="clock for the time column (default: 120 for M4, 160 for M55)")
    parser.add_argument("--no-portable", action="store_true", help="skip the --no-dsp builds")
    args = parser.parse_args()
    mhz = args.clock_mhz or cycles.DEFAULT_CLOCK_MHZ[args.target]
    print(f"| model ({args.target}) | MACs | flash B (-Os) | RAM B (-Os) | RAM + I/O B | TFLM arena B | "
          f"instr. -O2 DSP | instr./MAC | cycles (est.) | ms @ {mhz:g} MHz (est.) | "
          "instr. -O2 portable | verified |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory(prefix="mf-cm-") as tmp_name:
        tmp = Path(tmp_name)
        for name in args.models:
            stem = name.removesuffix(".tflite")
            try:
                path = model_path(name, tmp)
                graph = read_tflite(path)
                macs = sum(count_macs(op, graph.main) for op in graph.main.operators)
                small = build(path, tmp / f"{stem}_os", args.target, "Os", True, True)
                fast = build(path, tmp / f"{stem}_dsp", args.target, "O2", True, False)
                plain = None if args.no_portable else build(path, tmp / f"{stem}_c", args.target,
                                                             "O2", False, False)
                (tmp / f"{stem}_trace").mkdir()
                prof = profile(path, tmp / f"{stem}_dsp", args.target, tmp / f"{stem}_trace")
            except (RuntimeError, subprocess.SubprocessError) as exc:
                print(f"| {stem} | failed: {exc} |||||||||||")
                continue
            fw = small["firmware"]
            ok = all(r["differing_bytes"] == 0 for r in (small, fast, plain) if r is not None)

            def instr(r: dict | None) -> int:
                return r["firmware"]["instructions_per_inference"]["mean"] if r else 0

            n = instr(fast)
            est = n * prof.cycles_per_instruction(args.target)
            per_mac = f"{n / macs:.2f}" if macs else "-"
            print(f"| {stem} | {macs:,} | {fw['flash']['total']:,} | {fw['ram']['total']:,} | "
                  f"{fw['ram']['total'] + small['io_bytes']:,} | {small['tflm_arena_bytes']:,} | "
                  f"{n:,} | {per_mac} | {est:,.0f} | {est / (mhz * 1e3):.2f} | "
                  f"{f'{instr(plain):,}' if plain else '-'} | {'yes' if ok else 'NO'} |", flush=True)
    print("\nInstructions: QEMU -icount estimate (instructions, not cycles). Cycles: an estimate "
          "from per-instruction-class costs (microforge.targets.cortex_m.cycles), not a "
          "measurement. RAM = arena + static data + measured stack high-water mark; RAM + I/O "
          "adds the caller's buffers, which TFLM's arena holds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
