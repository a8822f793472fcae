"""The Ethos-U command-stream emulator's throughput: emulated inferences per second (Vela's model,
NPU subgraphs through the emulator, CPU operators through the runtime), batched, against
microforge's runtime on the original model, one thread each, and whether the outputs are
bit-exact. Emulated, not silicon: this measures the host, not the NPU.
Run: .venv/bin/python benchmarks/ethos_u_emulator.py [--models ...] [--configs ...] [--batch N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from shared_models import MODELS  # noqa: E402

from microforge.backends.ethos_u import VelaConfig, compile_npu
from microforge.frontends import read_model
from microforge.runtime.interpreter import Executor
from microforge.runtime.reference import random_inputs_for

NAMES = ["hello_world_int8", "micro_speech_quantized", "keyword_scrambled", "person_detect",
         "simple_add_model", "trained_lstm_int8", "dtln_noise_suppression"]


def _rate(ex: Executor, xs: list[np.ndarray], repeat: int) -> tuple[float, list[np.ndarray]]:
    out = ex.run(xs)[0]  # warm up (the emulator decodes and caches the weights here)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        ex.run(xs)
        best = min(best, time.perf_counter() - t)
    return xs[0].shape[0] / best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", nargs="*", default=NAMES)
    ap.add_argument("--configs", nargs="*", default=["ethos-u55-128", "ethos-u65-256"])
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| model | config | batch | runtime, original (inf/s) | emulated, Vela's model (inf/s) "
          "| ratio | bit-exact |")
    print("|---|---|---|---|---|---|---|")
    for name in args.models:
        path = MODELS / f"{name}.tflite"
        graph = read_model(path)
        xs = random_inputs_for(graph, args.batch, 0)
        ref, want = _rate(Executor(graph, threads=1), xs, args.repeat)
        for config in args.configs:
            npu = compile_npu(graph, VelaConfig(config), path.read_bytes())
            emu, got = _rate(Executor(npu.optimized, threads=1), xs, args.repeat)
            exact = all(np.array_equal(a.view(np.uint8), b.view(np.uint8)) for a, b in zip(got, want))
            print(f"| {name} | {config} | {args.batch} | {ref:,.0f} | {emu:,.0f} | "
                  f"{emu / ref:.2f} | {'yes' if exact else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
