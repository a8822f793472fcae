"""Seed files for the fuzzers: a small int8 TFLite model with every feature of the big shared ones
(six op kinds, per-channel quantization, a description, metadata, two subgraphs, a signature),
small ONNX (float and QDQ) and Keras (.h5 from tf_keras and Keras 3, .keras) models built by the
test builders, written into one folder. Needs the [test] extra.

    PYTHONPATH=src:. python benchmarks/fuzz_seeds.py OUT_DIR
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def tflite_seeds(out: Path) -> None:
    """``features_int8.tflite`` (12 KB; a copy is in tests/fuzz/seeds): the quantizer's int8 form of
    a CONV_2D -> DEPTHWISE_CONV_2D -> ADD -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX chain, with a
    second subgraph, a signature, a description and metadata holding C-hostile characters."""
    import copy

    from tests.builders.quant_graphs import chain, skewed_inputs

    from microforge.api import quantize
    from microforge.frontends.tflite.writer import write_tflite
    from microforge.ir.graph import Signature

    graph = copy.deepcopy(quantize(chain(), skewed_inputs((1, 8, 8, 3), n=32)).graph)
    main = graph.main
    graph.subgraphs.append(copy.deepcopy(main))
    graph.subgraphs[1].name = "copy"
    graph.description = "microforge fuzz seed: int8 conv/depthwise/add/fc/softmax, two subgraphs"
    graph.metadata = {**graph.metadata, "min_runtime_version": b"1.14.0\0",
                      "author": b'microforge "fuzz" */ seed\n'}
    graph.signatures = [Signature("serving_default", 0, {"x": main.inputs[0]},
                                  {"probs": main.outputs[0]})]
    (out / "features_int8.tflite").write_bytes(write_tflite(graph))


def onnx_seeds(out: Path) -> None:
    from tests.builders import onnx_quant, torch_models

    for name in ("ds_cnn", "conv1d_audio", "lstm"):
        model, shape = torch_models.build(name)
        (out / f"{name}.onnx").write_bytes(torch_models.export(model, shape))
    with tempfile.TemporaryDirectory() as tmp:
        net, shape = onnx_quant.small_convnet()
        float_path = onnx_quant.export(net, shape, Path(tmp) / "f.onnx")
        for setting in (onnx_quant.QuantSetting("QDQ"), onnx_quant.QuantSetting("QOperator", "QInt8")):
            dst = out / f"small_convnet_{setting.label}.onnx"
            onnx_quant.quantize(float_path, dst, setting, shape)


def keras_seeds(out: Path) -> None:
    from tests.builders.keras_frontend_models import save_all

    save_all(out, ("ds_cnn", "audio_1d", "lstm", "zoo"))


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "fuzz_seeds")
    out.mkdir(parents=True, exist_ok=True)
    tflite_seeds(out)
    onnx_seeds(out)
    keras_seeds(out)
    for p in sorted(out.iterdir()):
        print(f"{p.stat().st_size:>9,}  {p.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
