"""Generated C vs TFLM: RAM and instructions per inference, side by side in one run.

RAM: microforge = arena + other static RAM + stack estimate + the caller's input/output buffers
(TFLM keeps its input/output tensors inside its arena, so they are counted on our side too);
TFLM = the tflite-micro package's ``print_allocations`` total.
Instructions: ``valgrind --tool=callgrind`` counting only the invoke (microforge: ``NAME_invoke`` in
the verify harness built with the flags below; TFLM: ``MicroInterpreter::Invoke`` in the
tflite-micro package), averaged over a few random inputs.
Models: the MLPerf Tiny-shaped networks built in the tests (``tests/builders/mlperf_tiny.py``: DS-CNN,
MobileNetV1-0.25 96x96, ResNet-8; int8, quantized by microforge) and the shared models.
Run: .venv/bin/python benchmarks/c_vs_tflm.py [--models ...] [--markdown]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from shared_models import COMPILED_MODELS, MODELS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders.mlperf_tiny import BUILDERS, write  # noqa: E402

from microforge.backends.c.compiler import compile_model  # noqa: E402
from microforge.errors import MicroforgeError  # noqa: E402
from microforge.frontends.tflite.reader import read_tflite  # noqa: E402
from microforge.report.tflm_arena import tflm_arena_bytes  # noqa: E402
from microforge.runtime.reference import random_inputs_for  # noqa: E402
from microforge.targets.host import build_harness  # noqa: E402
from microforge.targets.sizes import measure  # noqa: E402

NAMES = [*BUILDERS, *COMPILED_MODELS]
OPT = ["-O3", "-flto"]
INVOKES = 3

_TFLM_SCRIPT = """
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
data = open(sys.argv[1], 'rb').read()
interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 4 << 20))
inputs = np.load(sys.argv[2])
for i in range(int(sys.argv[3])):
    for k in range(len(inputs.files)):
        interp.set_input(inputs[f'arr_{k}'][i], k)
    interp.invoke()
"""


def callgrind(cmd: list[str], toggle: str, work: Path) -> int:
    out = work / "callgrind.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    "--collect-atstart=no", f"--toggle-collect={toggle}", *cmd],
                   capture_output=True, check=True)
    for line in out.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError("callgrind wrote no totals")


def measure_model(name: str, work: Path) -> dict:
    path = write(name, work) if name in BUILDERS else MODELS / name
    stem = name.removesuffix(".tflite")
    graph = read_tflite(path)
    compiled = compile_model(graph, work / stem, name=stem, force=True)
    sizes = measure(compiled.directory, stem, opt="-Os")
    sg = graph.main
    io = sum(sg.tensors[t].nbytes for t in sg.inputs + sg.outputs)
    xs = random_inputs_for(graph, INVOKES, seed=1)
    exe = build_harness(compiled.directory, stem, graph, work, extra_flags=OPT)
    with open(work / "in.bin", "wb") as f:
        for i in range(INVOKES):
            for x in xs:
                f.write(np.ascontiguousarray(x[i]).tobytes())
    ours = callgrind([str(exe), str(work / "in.bin"), str(work / "out.bin"), str(INVOKES), "0"],
                     f"{stem}_invoke", work) / INVOKES
    np.savez(work / "inputs.npz", *xs)
    theirs = callgrind([sys.executable, "-c", _TFLM_SCRIPT, str(path), str(work / "inputs.npz"),
                        str(INVOKES)], "*MicroInterpreter::Invoke*", work) / INVOKES
    tflm_ram = tflm_arena_bytes(path)
    ram = sizes.ram_bytes + io
    return {"model": stem, "ram": ram, "tflm_ram": tflm_ram, "ram_ratio": ram / tflm_ram,
            "instr": ours, "tflm_instr": theirs, "instr_ratio": ours / theirs,
            "flash": sizes.code_bytes + sizes.const_bytes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=NAMES)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind not found: apt-get install valgrind", file=sys.stderr)
        return 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="mf-bench-") as tmp:
        for name in args.models:
            work = Path(tmp) / name
            work.mkdir()
            try:
                r = measure_model(name, work)
            except MicroforgeError as exc:
                print(f"{name}: skipped ({exc})", file=sys.stderr)
                continue
            rows.append(r)
            print(f"{r['model']}: RAM {r['ram']:,} vs {r['tflm_ram']:,} ({r['ram_ratio']:.2f}x), "
                  f"instructions {r['instr']:,.0f} vs {r['tflm_instr']:,.0f} "
                  f"({r['instr_ratio']:.3f}x)", file=sys.stderr)
    header = ["model", "RAM (B)", "TFLM arena (B)", "RAM ratio", "instr/inference",
              "TFLM instr", "instr ratio", "flash (B)"]
    table = [[r["model"], f"{r['ram']:,}", f"{r['tflm_ram']:,}", f"{r['ram_ratio']:.2f}",
              f"{r['instr']:,.0f}", f"{r['tflm_instr']:,.0f}", f"{r['instr_ratio']:.3f}",
              f"{r['flash']:,}"] for r in rows]
    if rows:
        mean_ram = sum(r["ram_ratio"] for r in rows) / len(rows)
        table.append(["mean", "", "", f"{mean_ram:.2f}", "", "",
                      f"{sum(r['instr_ratio'] for r in rows) / len(rows):.3f}", ""])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for t in table:
            print("| " + " | ".join(t) + " |")
    else:
        widths = [max(len(x[c]) for x in [header] + table) for c in range(len(header))]
        for t in [header] + table:
            print("  ".join(v.rjust(w) for v, w in zip(t, widths)))
    print(f"\nC built with {' '.join(OPT)} (instructions) and -Os (sizes); "
          "RAM includes the caller's input/output buffers.")
    if rows:
        print(targets(rows))
    return 0


#: issue 17's RAM targets (RAM including the caller's buffers / TFLM's arena): conv models without
#: residual connections at most 0.5x, the ResNet-8 at most 0.7x
RAM_TARGETS = {"person_detect": 0.5, "ds_cnn": 0.5, "mobilenet_v1_025": 0.5,
               "micro_speech_quantized": 0.5, "resnet8": 0.7}
INSTR_TARGET = 0.2


def targets(rows: list[dict]) -> str:
    """Issue 17's targets against the measured rows."""
    def verdict(bad: list[str]) -> str:
        return "met" if not bad else "missed by " + ", ".join(bad)

    over_ram = [r["model"] for r in rows if r["ram_ratio"] >= 1]
    lines = [f"RAM below TFLM on every model: {verdict(over_ram)}"]
    for r in rows:
        goal = RAM_TARGETS.get(r["model"])
        if goal is not None:
            lines.append(f"RAM <= {goal}x on {r['model']}: "
                         f"{'met' if r['ram_ratio'] <= goal else 'missed'} ({r['ram_ratio']:.2f})")
    over_instr = [f"{r['model']} ({r['instr_ratio']:.3f})" for r in rows
                  if r["instr_ratio"] > INSTR_TARGET]
    lines.append(f"instructions <= {INSTR_TARGET}x on every model: {verdict(over_instr)}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
