"""Runtime throughput: microforge's batched numpy runtime beside tflite-micro and LiteRT (1 thread).

For the MLPerf Tiny-shaped networks built in the tests (``tests/builders/mlperf_tiny.py``: DS-CNN,
MobileNetV1-0.25 96x96x3, ResNet-8; int8, quantized by microforge) and each shared model:
microforge batch=1 latency, microforge batch=256 time per sample, and the per-sample invoke loops
of tflite-micro and LiteRT on the same inputs; ratios = their time / ours. Single samples and
models below ``hostlib.TINY_MACS`` run through the compiled library (``targets/hostlib.py``) once
the warm-up has built it; the last column says whether it was ready.
microforge runs in the configuration a user gets (``microforge.load(path).run(x)``: default
threads, BLAS as the environment leaves it, limited by the runtime itself); nothing is tuned here.
Run: .venv/bin/python benchmarks/runtime_throughput.py [--batch 256] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from shared_models import MODELS, RUNTIME_MODELS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.builders.mlperf_tiny import BUILDERS, write  # noqa: E402

import microforge  # noqa: E402
from microforge.runtime import blas  # noqa: E402
from microforge.runtime.interpreter import default_threads  # noqa: E402
from microforge.targets import hostlib  # noqa: E402

NAMES = [*(f"{name}.tflite" for name in BUILDERS), *RUNTIME_MODELS]
# LiteRT rejects person_detect's quantized_dimension fields, and aborts the process
# ("double free or corruption") on keyword_scrambled_8bit's int8-state SVDF.
LITERT_CANNOT_LOAD = {"person_detect.tflite", "keyword_scrambled_8bit.tflite"}


def inputs_for(model: microforge.Model, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for info in model.inputs:
        if np.dtype(info.dtype).kind == "f":
            out.append(rng.uniform(-1, 1, (n,) + info.shape).astype(info.dtype))
        else:
            lim = np.iinfo(info.dtype)
            out.append(rng.integers(lim.min, lim.max, (n,) + info.shape, endpoint=True,
                                    dtype=info.dtype))
    return out


def best_of(fn, repeat: int) -> tuple[float, float]:
    """The best wall-clock time and the best CPU time of this process (all its threads) over
    ``repeat`` calls: CPU time is what a loaded machine disturbs least."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def time_microforge(path: Path, batch: int, threads: int | None, loop: int
                    ) -> tuple[float, float, float, str]:
    """Batch-1 latency, batched wall time per sample, batched CPU time per sample, and the
    state of the compiled path, measured after the warm-up a user's repeated calls give it
    (``auto``: the library is built after ``HOT_CALLS`` small calls)."""
    model = microforge.load(path, threads=threads)
    xs = inputs_for(model, batch)
    single = [x[:1] for x in xs]
    for _ in range(hostlib.HOT_CALLS):
        model.run(single)
    compiled = model.wait_compiled()
    model.reset()
    model.run(single)
    # batch 1 as the anchors are timed: a loop of single samples (one stream of steps for a
    # stateful model), best of 3 loops, per call
    samples = [[x[j:j + 1] for x in xs] for j in range(min(batch, loop))]

    def stream():
        model.reset()
        for sample in samples:
            model.run(sample)

    lat = best_of(stream, 3)[0] / len(samples)
    model.reset()
    model.run(xs)
    wall, cpu = best_of(lambda: (model.reset(), model.run(xs)), 3)
    return lat, wall / batch, cpu / batch, compiled


def time_loop(make, path: Path, n: int) -> tuple[float, float] | tuple[None, None]:
    try:
        run_one = make(path)
    except Exception as exc:  # the anchor runtime cannot load this model
        print(f"    ({path.name}: {type(exc).__name__}: {str(exc)[:80]})", file=sys.stderr)
        return None, None
    model = microforge.load(path)
    xs = inputs_for(model, n)
    samples = [[x[j] for x in xs] for j in range(n)]
    run_one(samples[0])
    wall, cpu = best_of(lambda: [run_one(s) for s in samples], 3)
    return wall / n, cpu / n


def make_tflm(path: Path):
    from tflite_micro.python.tflite_micro import runtime

    data = path.read_bytes()
    interp = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 4 << 20))

    def run(sample):
        for i, x in enumerate(sample):
            interp.set_input(x, i)
        interp.invoke()
        return interp.get_output(0)

    return run


def make_litert(path: Path):
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    ins = [d["index"] for d in interp.get_input_details()]
    out = interp.get_output_details()[0]["index"]

    def run(sample):
        for i, x in zip(ins, sample):
            interp.set_tensor(i, x)
        interp.invoke()
        return interp.get_tensor(out)

    return run


def fmt_us(t: float | None) -> str:
    return "-" if t is None else f"{t * 1e6:,.1f}"


def ratio(a: float | None, b: float) -> str:
    return "-" if a is None else f"{a / b:.1f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--loop", type=int, default=64, help="samples in the anchors' loops")
    parser.add_argument("--models", nargs="*", default=NAMES)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="microforge threads (default: what load() picks, as for a user)")
    args = parser.parse_args()
    threads = args.threads or default_threads()
    header = ["model", "mf b=1 us", f"mf b={args.batch} us/sample", "tflm us",
              "litert us (1 thr)", f"b={args.batch} vs tflm", f"b={args.batch} vs litert",
              "b=1 vs tflm", "CPU us/sample mf / tflm / litert", "CPU vs tflm", "CPU vs litert",
              "compiled path"]
    rows = []
    built = tempfile.TemporaryDirectory()
    for name in args.models:
        stem = name.removesuffix(".tflite")
        path = write(stem, Path(built.name)) if stem in BUILDERS else MODELS / name
        lat, thr, cpu, compiled = time_microforge(path, args.batch, args.threads, args.loop)
        tflm, tflm_cpu = time_loop(make_tflm, path, args.loop)
        litert, litert_cpu = (None, None) if name in LITERT_CANNOT_LOAD else \
            time_loop(make_litert, path, args.loop)
        cpus = " / ".join(f"{t * 1e6:,.0f}" if t else "-" for t in (cpu, tflm_cpu, litert_cpu))
        rows.append([stem, fmt_us(lat), fmt_us(thr), fmt_us(tflm), fmt_us(litert),
                     ratio(tflm, thr), ratio(litert, thr), ratio(tflm, lat), cpus,
                     ratio(tflm_cpu, cpu), ratio(litert_cpu, cpu), compiled.split(":")[0]])
        print("  ".join(rows[-1]), file=sys.stderr)
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(r[c]) for r in [header] + rows) for c in range(len(header))]
        for r in [header] + rows:
            print("  ".join(v.rjust(w) for v, w in zip(r, widths)))
    env = {v: os.environ[v] for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                      "OPENBLAS_CORETYPE", "MICROFORGE_THREADS") if v in os.environ}
    print(f"\nBLAS: {blas.description()}")
    print(f"microforge: {threads} worker thread(s) over batch chunks (BLAS limited to one "
          f"thread during a run); environment: {env or 'no BLAS/thread variables'}; "
          f"tflite-micro single-threaded; LiteRT 1 thread; machine: {blas.cores()} cores, load "
          f"average {os.getloadavg()[0]:.1f} at the end. Ratios = anchor time per sample / "
          "microforge time per sample; CPU = process CPU time per sample (microforge: all its "
          "threads, batched).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
