"""Runtime throughput: microforge's batched numpy runtime beside tflite-micro and LiteRT (1 thread).

For each shared model: microforge batch=1 latency, microforge batch=256 time per sample, and the
per-sample invoke loops of tflite-micro and LiteRT on the same inputs; ratios = their time / ours.
Run: .venv/bin/python benchmarks/runtime_throughput.py [--batch 256] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One thread everywhere (LiteRT is run with 1 thread, TFLM is single-threaded): a fair comparison,
# and multi-threaded BLAS on small matrices is erratic on a loaded 2-core machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# Some machines force an older OpenBLAS core type (a workaround for old OpenBLAS builds); a current
# numpy runs slower with it. Dropped for this process only; the kernel actually used is printed.
if not os.environ.get("MICROFORGE_KEEP_OPENBLAS_CORETYPE"):
    os.environ.pop("OPENBLAS_CORETYPE", None)
    os.environ.pop("OPENBLAS_L2_SIZE", None)

import numpy as np  # noqa: E402
from shared_models import MODELS, RUNTIME_MODELS  # noqa: E402

import microforge  # noqa: E402

NAMES = RUNTIME_MODELS
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


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def time_microforge(path: Path, batch: int, threads: int) -> tuple[float, float]:
    model = microforge.load(path, threads=threads)
    xs = inputs_for(model, batch)
    single = [x[:1] for x in xs]
    model.run(single)
    lat = best_of(lambda: (model.reset(), model.run(single)), 20)
    model.reset()
    model.run(xs)
    thr = best_of(lambda: (model.reset(), model.run(xs)), 3) / batch
    return lat, thr


def time_loop(make, path: Path, n: int) -> float | None:
    try:
        run_one = make(path)
    except Exception as exc:  # the anchor runtime cannot load this model
        print(f"    ({path.name}: {type(exc).__name__}: {str(exc)[:80]})", file=sys.stderr)
        return None
    model = microforge.load(path)
    xs = inputs_for(model, n)
    samples = [[x[j] for x in xs] for j in range(n)]
    run_one(samples[0])
    return best_of(lambda: [run_one(s) for s in samples], 3) / n


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


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "(install threadpoolctl to see which BLAS kernel ran)"
    infos = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
             for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(infos) or "unknown"


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
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="microforge threads for the batched run (default: all cores)")
    args = parser.parse_args()
    header = ["model", "mf b=1 us", f"mf b={args.batch} us/sample ({args.threads} thr)", "tflm us",
              "litert us (1 thr)", "vs tflm", "vs litert"]
    rows = []
    for name in args.models:
        path = MODELS / name
        lat, thr = time_microforge(path, args.batch, args.threads)
        tflm = time_loop(make_tflm, path, args.loop)
        litert = None if name in LITERT_CANNOT_LOAD else time_loop(make_litert, path, args.loop)
        rows.append([name.removesuffix(".tflite"), fmt_us(lat), fmt_us(thr), fmt_us(tflm),
                     fmt_us(litert), ratio(tflm, thr), ratio(litert, thr)])
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
    print(f"\nBLAS: {blas_description()}")
    print(f"microforge: {args.threads} thread(s) over batch chunks, BLAS "
          f"{os.environ['OPENBLAS_NUM_THREADS']} thread; tflite-micro single-threaded; LiteRT 1 thread; "
          f"machine: {os.cpu_count()} cores. Ratios = anchor time per sample / microforge batched "
          "time per sample.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
