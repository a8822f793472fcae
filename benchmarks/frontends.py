"""From a Keras or ONNX model file to an int8 .tflite that TFLM runs: microforge beside the TFLite
converter (Keras) and onnxruntime's QDQ quantizer (ONNX), in one run.

Keras: the models of tests/builders/keras_models.py, trained a few seconds on synthetic data, saved
as Keras 3 ``.keras`` files. microforge: ``microforge.quantize(model.keras, calibration)`` and
``write_tflite``. Converter: ``keras.models.load_model`` plus ``TFLiteConverter`` full-int8 with the
same samples as its representative dataset. Both int8 models are scored against Keras's float
outputs on held-out inputs, run through microforge's runtime (bit-exact with TFLM).

ONNX: the PyTorch models of tests/builders/torch_models.py exported with torch.onnx (seeded random
weights; their outputs are scored against onnxruntime's float run). microforge quantizes the float
``.onnx`` file (calibration in the model's NCHW layout). onnxruntime's ``quantize_static`` (QDQ,
its default int8 settings, the same calibration samples) is timed and its QDQ model is scored as
onnxruntime runs it; microforge then reads that QDQ file into an int8 .tflite (``convert``), scored
through microforge's runtime.

Every int8 .tflite microforge writes is also run in the tflite-micro package on 8 inputs and must
equal microforge's runtime bit for bit (column "TFLM"). Times are wall-clock, one run each, from the
model file to the int8 model in memory.

Run: .venv/bin/python benchmarks/frontends.py [--markdown] [--samples 256]
Needs the [test,tf] extras (TensorFlow for the converter and training, torch, onnxruntime).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from tests.builders import keras_models, torch_models  # noqa: E402
from tests.oracle import tflm_run  # noqa: E402

import microforge  # noqa: E402
from microforge.frontends import write_tflite  # noqa: E402
from microforge.frontends.tflite.reader import read_tflite  # noqa: E402
from microforge.passes import PassManager, fold_constants, remove_dead  # noqa: E402
from microforge.quantize.report import quantize_input, sqnr_db  # noqa: E402

ONNX_MODELS = ("ds_cnn", "mobilenet_v2", "conv1d_audio", "resnet8", "autoencoder")


def dequantized(model: microforge.Model, x: np.ndarray) -> list[np.ndarray]:
    """Outputs of an int8 model on float channels-last inputs, dequantized, (N, -1) each."""
    tensor = model.graph.main.tensors[model.graph.main.inputs[0]]
    q = quantize_input(x.reshape((len(x),) + tuple(tensor.shape[1:])), tensor)
    return [((out.astype(np.float64) - info.zero_point) * info.scale).reshape(len(x), -1)
            for out, info in zip(model.run(q), model.outputs)]


def sqnr(refs: list[np.ndarray], outs: list[np.ndarray]) -> float:
    """Worst output SQNR; outputs are matched to the reference outputs by shape and similarity
    (the converter may reorder them)."""
    return min(max(sqnr_db(ref, o) for o in outs if o.shape == ref.shape) for ref in refs)


def tflm_matches(data: bytes, model: microforge.Model, x: np.ndarray) -> bool:
    """tflite-micro gives microforge's runtime outputs bit for bit on the first 8 inputs."""
    tensor = model.graph.main.tensors[model.graph.main.inputs[0]]
    q = quantize_input(x[:8].reshape((8,) + tuple(tensor.shape)), tensor)
    ours = model.run(q.reshape((8,) + tuple(tensor.shape[1:])) if tensor.shape[0] == 1 else q)
    theirs = tflm_run(data, [[s] for s in q])
    return all(np.array_equal(o.reshape(t.shape), t) for o, t in zip(ours, theirs))


def keras_rows(names: list[str], tmp: Path) -> list[tuple]:
    import tensorflow as tf
    from tensorflow import keras

    rows = []
    for name in names:
        with contextlib.redirect_stdout(io.StringIO()):
            trained = keras_models.make(name, held_out=1024)
            path = tmp / f"{name}.keras"
            trained.keras_model.save(path)
            ref = trained.keras_model.predict(trained.test_x, verbose=0)
        refs = [np.asarray(r, np.float64).reshape(len(trained.test_x), -1)
                for r in (ref if isinstance(ref, list) else [ref])]
        calib = trained.train_x

        start = time.perf_counter()
        model = microforge.quantize(path, calib)
        data = write_tflite(model.graph)
        mf_time = time.perf_counter() - start
        mf_model = microforge.load(data)
        mf_sqnr = sqnr(refs, dequantized(mf_model, trained.test_x))
        ok = tflm_matches(data, mf_model, trained.test_x)

        def representative(calib=calib):
            for x in calib:
                yield [x[None]]

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            start = time.perf_counter()
            loaded = keras.models.load_model(path)
            converter = tf.lite.TFLiteConverter.from_keras_model(loaded)
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
            tfl = converter.convert()
            tfl_time = time.perf_counter() - start
        graph, _ = PassManager([fold_constants, remove_dead])(read_tflite(tfl))
        tfl_sqnr = sqnr(refs, dequantized(microforge.Model(graph), trained.test_x))
        rows.append(("Keras " + name, "TFLite converter", mf_time, tfl_time, mf_sqnr, tfl_sqnr,
                     "yes" if ok else "NO"))
        print(f"{rows[-1][0]}: microforge {mf_sqnr:.2f} dB in {mf_time:.2f} s, converter "
              f"{tfl_sqnr:.2f} dB in {tfl_time:.2f} s", file=sys.stderr)
    return rows


def ort_session(path: Path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def ort_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort_session(path)
    name = session.get_inputs()[0].name
    out = [session.run(None, {name: s[None]})[0] for s in x]
    return np.concatenate(out).reshape(len(x), -1).astype(np.float64)


def onnx_rows(names: list[str], tmp: Path, samples: int) -> list[tuple]:
    from onnxruntime import quantization as q

    rows = []
    for name in names:
        net, shape = torch_models.build(name)
        path = tmp / f"{name}.onnx"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            path.write_bytes(torch_models.export(net, shape))
        calib = torch_models.sample(shape, samples, seed=1)[:, 0]
        test = torch_models.sample(shape, samples, seed=2)[:, 0]
        ref = ort_outputs(path, test)
        layout = microforge.load(path).graph.source
        perm = layout.input_perm(0) if layout else None

        def to_ir(a: np.ndarray, perm=perm) -> np.ndarray:
            """(N, C, H, W) test data (N replacing the batch axis) channels-last."""
            return a if perm is None else np.ascontiguousarray(a.transpose(perm))

        start = time.perf_counter()
        model = microforge.quantize(path, calib)
        data = write_tflite(model.graph)
        mf_time = time.perf_counter() - start
        mf_model = microforge.load(data)
        mf_sqnr = sqnr([ref], dequantized(mf_model, to_ir(test)))
        ok = tflm_matches(data, mf_model, to_ir(test))

        class Reader(q.CalibrationDataReader):
            def __init__(self, calib=calib) -> None:
                self.data = iter([{"x": s[None]} for s in calib])

            def get_next(self):
                return next(self.data, None)

        qdq = tmp / f"{name}.qdq.onnx"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            start = time.perf_counter()
            q.quantize_static(str(path), str(qdq), Reader(), quant_format=q.QuantFormat.QDQ)
            ort_time = time.perf_counter() - start
        ort_sqnr = sqnr_db(ref, ort_outputs(qdq, test))

        start = time.perf_counter()
        converted = write_tflite(microforge.load(qdq).graph)
        conv_time = time.perf_counter() - start
        conv_model = microforge.load(converted)
        conv_sqnr = sqnr([ref], dequantized(conv_model, to_ir(test)))
        ok = ok and tflm_matches(converted, conv_model, to_ir(test))
        rows.append(("ONNX " + name, "onnxruntime QDQ", mf_time, ort_time, mf_sqnr, ort_sqnr,
                     "yes" if ok else "NO"))
        rows.append(("ONNX " + name + " (its QDQ file)", "onnxruntime QDQ", conv_time, ort_time,
                     conv_sqnr, ort_sqnr, "yes" if ok else "NO"))
        print(f"{rows[-2][0]}: microforge {mf_sqnr:.2f} dB in {mf_time:.2f} s, onnxruntime "
              f"{ort_sqnr:.2f} dB in {ort_time:.2f} s; microforge from the QDQ file "
              f"{conv_sqnr:.2f} dB in {conv_time:.2f} s", file=sys.stderr)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--keras", nargs="*", default=list(keras_models.BUILDERS),
                        choices=list(keras_models.BUILDERS))
    parser.add_argument("--onnx", nargs="*", default=list(ONNX_MODELS), choices=list(ONNX_MODELS))
    parser.add_argument("--samples", type=int, default=256, help="calibration / test samples (ONNX)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = keras_rows(args.keras, Path(tmp)) + onnx_rows(args.onnx, Path(tmp), args.samples)
    header = ("model", "anchor", "microforge s", "anchor s", "speed-up", "microforge SQNR dB",
              "anchor SQNR dB", "TFLM bit-exact")
    cells = [(m, a, f"{t:.2f}", f"{at:.2f}", f"{at / t:.1f}x", f"{s:.2f}", f"{as_:.2f}", ok)
             for m, a, t, at, s, as_, ok in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for c in cells:
            print("| " + " | ".join(c) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]
        for r in [header, *cells]:
            print("  ".join(v.rjust(w) for v, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
