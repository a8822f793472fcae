"""Seed files for the fuzzers: small ONNX (float and QDQ) and Keras (.h5 from tf_keras and Keras 3,
.keras) models built by the test builders, written into one folder. Needs the [test] extra.

    PYTHONPATH=src:. python benchmarks/fuzz_seeds.py OUT_DIR
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


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
    onnx_seeds(out)
    keras_seeds(out)
    for p in sorted(out.iterdir()):
        print(f"{p.stat().st_size:>9,}  {p.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
