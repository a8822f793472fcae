"""microforge quantize beside the TFLite converter's post-training int8 quantization.

For each Keras model of tests/builders/keras_models.py (trained a few seconds on synthetic data):
convert it once with the TFLite converter to float (microforge's input) and once to full int8
(int8 inputs/outputs) with the same representative dataset (the 256 training samples microforge
calibrates on). Both int8 models run on held-out inputs through microforge's runtime (bit-exact
with TFLM); their dequantized outputs are compared with the Keras float model: output SQNR (worst
output), top-1 agreement of the first classifier output, and the wall time of each quantization
step (the converter's from the Keras model, microforge's from the float .tflite).

A method is ``default`` or a calibration method name, optionally followed by ``+rounding``
(learned rounding on every layer) or ``-nearest`` (no learned rounding; the default learns it on
small layers only) and/or ``-nobc`` (no bias correction): ``minmax-nearest-nobc`` is the converter's
recipe with microforge's rules.
Both quantize the LSTM model's UNIDIRECTIONAL_SEQUENCE_LSTM to int8 (int16 cell state).

Run: .venv/bin/python benchmarks/quantize_vs_tflite_converter.py [--markdown] [--methods ...]
     [--seeds 0 1 2] [--models ...]
Needs the [tf] extra.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tests.builders.keras_models import ALL, RECONSTRUCTION, make  # noqa: E402

import microforge  # noqa: E402
from microforge.frontends.tflite.reader import read_tflite  # noqa: E402
from microforge.passes import PassManager, fold_constants, remove_dead  # noqa: E402
from microforge.quantize.calibration import METHODS  # noqa: E402
from microforge.quantize.report import quantize_input, sqnr_db  # noqa: E402


def tflite_int8(trained) -> tuple[bytes, float]:
    import tensorflow as tf

    def representative():
        for x in trained.train_x:
            yield [x[None]]

    start = time.perf_counter()
    converter = tf.lite.TFLiteConverter.from_keras_model(trained.export_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    data = converter.convert()
    return data, time.perf_counter() - start


def load_folded(data: bytes) -> microforge.Model:
    """The converter's model with its SHAPE/PACK batch-size arithmetic folded to constants (as
    TFLM computes it at run time), so microforge's runtime runs it."""
    graph, _ = PassManager([fold_constants, remove_dead])(read_tflite(data))
    return microforge.Model(graph)


def run_int8(model: microforge.Model, x: np.ndarray) -> list[np.ndarray]:
    """Dequantized outputs of a quantized model on float inputs, (N, -1) each."""
    tensor = model.graph.main.tensors[model.inputs[0].index]
    outs = model.run(quantize_input(x.reshape((len(x),) + tuple(tensor.shape[1:])), tensor))
    result = []
    for out, info in zip(outs, model.outputs):
        real = out.astype(np.float64)
        if info.dtype != np.float32:
            real = (real - info.zero_point) * info.scale
        result.append(real.reshape(len(x), -1))
    return result


def score(outputs: list[np.ndarray], refs: list[np.ndarray],
          classes: bool = True) -> tuple[float, float]:
    """(worst output SQNR, top-1 agreement of the first multi-class output); outputs are matched
    to the reference outputs by shape and similarity (the converter may reorder them)."""
    sqnrs, top1 = [], float("nan")
    for ref in refs:
        same = [o for o in outputs if o.shape == ref.shape]
        best = max(sqnr_db(ref, o) for o in same)
        sqnrs.append(best)
        if classes and ref.shape[1] > 1 and np.isnan(top1):
            out = max(same, key=lambda o: sqnr_db(ref, o))
            top1 = float((out.argmax(1) == ref.argmax(1)).mean())
    return min(sqnrs), top1


def _pct(x: float) -> str:
    return "–" if np.isnan(x) else f"{x:.1%}"


def options_of(spec: str) -> dict[str, object]:
    """``default``, a method, ``...+rounding`` / ``...-nearest``, ``...-nobc`` ->
    microforge.quantize keywords."""
    options: dict[str, object] = {}
    if spec.endswith("-nobc"):
        options["bias_correction"], spec = False, spec[:-5]
    if spec.endswith("+rounding"):
        options["optimize_rounding"], spec = True, spec[:-9]
    elif spec.endswith("-nearest"):
        options["optimize_rounding"], spec = False, spec[:-8]
    if spec != "default":
        options["method"] = spec
    return options


def run_model(name: str, seed: int, methods: list[str]) -> list[tuple]:
    with contextlib.redirect_stdout(io.StringIO()):  # TensorFlow prints export chatter
        trained = make(name, seed=seed, held_out=2048)
        refs = trained.keras_model.predict(trained.test_x, verbose=0)
        tfl_bytes, tfl_time = tflite_int8(trained)
    refs = [np.asarray(r, np.float64).reshape(len(trained.test_x), -1)
            for r in (refs if isinstance(refs, list) else [refs])]
    classes = name not in RECONSTRUCTION
    tfl_sqnr, tfl_top1 = score(run_int8(load_folded(tfl_bytes), trained.test_x), refs, classes)
    rows = []
    for spec in methods:
        options = options_of(spec)
        start = time.perf_counter()
        model = microforge.quantize(trained.float_tflite, trained.train_x, progress=False,
                                    **options)
        mf_time = time.perf_counter() - start
        mf_sqnr, mf_top1 = score(run_int8(model, trained.test_x), refs, classes)
        rows.append((name, seed, spec, mf_sqnr, tfl_sqnr, mf_top1, tfl_top1, mf_time, tfl_time))
        print(f"{name} seed {seed}: {spec}: microforge {mf_sqnr:.2f} dB in {mf_time:.2f} s, "
              f"converter {tfl_sqnr:.2f} dB in {tfl_time:.2f} s", file=sys.stderr, flush=True)
    return rows


def summary(rows: list[tuple], methods: list[str]) -> list[str]:
    """Per method: mean and worst SQNR difference to the converter, models below converter +
    0.5 dB, worst top-1 difference, total time against the converter's."""
    lines = ["| method | mean vs converter dB | worst vs converter dB | rows < converter + 0.5 dB "
             "| worst top-1 diff | time / converter time |", "|---|---|---|---|---|---|"]
    for spec in methods:
        mine = [r for r in rows if r[2] == spec]
        if not mine:
            continue
        diff = [r[3] - r[4] for r in mine]
        top1 = [r[5] - r[6] for r in mine if not np.isnan(r[5])]
        ratio = sum(r[7] for r in mine) / sum(r[8] for r in mine)
        lines.append(f"| {spec} | {np.mean(diff):+.2f} | {min(diff):+.2f} | "
                     f"{sum(d < 0.5 for d in diff)} of {len(diff)} | {min(top1):+.1%} | "
                     f"{ratio:.2f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--methods", nargs="+", default=["default"],
                        help=f"methods to compare: default or {', '.join(METHODS)}, each "
                             "optionally with +rounding and/or -nobc")
    parser.add_argument("--models", nargs="+", default=list(ALL), choices=list(ALL))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="training seeds")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for name in args.models:
            rows += run_model(name, seed, args.methods)
    header = ("model", "seed", "method", "microforge SQNR dB", "converter SQNR dB",
              "microforge top-1", "converter top-1", "microforge s", "converter s")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    else:
        print("  ".join(f"{h:>18}" for h in header))
    for name, seed, label, ms, ts, mt, tt, mtime, ttime in rows:
        cells = (name, str(seed), label, f"{ms:.2f}", f"{ts:.2f}", _pct(mt), _pct(tt),
                 f"{mtime:.2f}", f"{ttime:.2f}")
        print(("| " + " | ".join(cells) + " |") if args.markdown
              else "  ".join(f"{c:>18}" for c in cells))
    print()
    print("\n".join(summary(rows, args.methods)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
