"""``microforge quantize``: post-training int8 (or 16x8) quantization of a float model (.tflite,
.onnx, Keras .h5 / .keras)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from microforge.commands.output import check_output, write_atomic


def register(sub) -> None:
    from microforge.quantize import DEFAULT_METHOD
    from microforge.quantize.calibration import METHODS

    p = sub.add_parser("quantize", help="post-training int8 quantization of a float model")
    p.add_argument("model", help="float model: .tflite, .onnx, Keras .h5 or .keras (only read)")
    p.add_argument("--output", "-o", required=True, help="quantized .tflite to write")
    p.add_argument("--calibration", "-c", required=True,
                   help=".npy/.npz (leading axis = samples; .npz arrays by input name or order) "
                        "or a folder of them")
    p.add_argument("--per-tensor", action="store_true",
                   help="one weight scale per tensor instead of per output channel")
    p.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                   help=f"activation range calibration (default {DEFAULT_METHOD})")
    p.add_argument("--percentile", type=float, default=99.99,
                   help="percentile kept by --method percentile (default 99.99)")
    p.add_argument("--io", choices=("int8", "float"), default="int8",
                   help="model input/output type: int8 (int16 with --int16-activations) or float "
                        "with QUANTIZE/DEQUANTIZE at the edges (default int8)")
    p.add_argument("--int16-activations", action="store_true",
                   help="16x8 quantization: int16 activations, int8 weights")
    p.add_argument("--allow-float", action="store_true",
                   help="keep operators that cannot be quantized in float instead of failing")
    p.add_argument("--report", action="store_true",
                   help="print SQNR / cosine per tensor and output, top-1 agreement, worst layers")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from microforge.api import quantize
    from microforge.frontends.tflite.writer import write_tflite

    source, out = Path(args.model), Path(args.output)
    check_output(source, out, args.force)
    model = quantize(source, args.calibration, per_channel=not args.per_tensor,
                     method=args.method, io=args.io, int16_activations=args.int16_activations,
                     allow_float=args.allow_float, percentile=args.percentile)
    data = write_tflite(model.graph)
    write_atomic(out, data)
    settings = ", ".join(f"{k} {v}" for k, v in model.settings.items())
    if args.json:
        print(json.dumps(model.report().to_dict(), indent=2))
        return 0
    print(f"wrote {args.output} ({len(data):,} bytes; {settings})")
    if model.kept_float:
        print("kept in float: " + ", ".join(model.kept_float))
    if args.report:
        print(model.report())
    return 0
