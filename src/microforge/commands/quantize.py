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
                   help=f"activation range calibration (default {DEFAULT_METHOD}: per tensor, the "
                        "candidate range that least hurts the consuming layer's output)")
    p.add_argument("--percentile", type=float, default=99.99,
                   help="percentile kept by --method percentile (default 99.99)")
    p.add_argument("--io", choices=("int8", "float"), default="int8",
                   help="model input/output type: int8 (int16 with --int16-activations) or float "
                        "with QUANTIZE/DEQUANTIZE at the edges (default int8)")
    p.add_argument("--int16-activations", action="store_true",
                   help="16x8 quantization: int16 activations, int8 weights")
    p.add_argument("--no-bias-correction", action="store_true",
                   help="do not fold the mean output shift of weight rounding into the bias")
    p.add_argument("--optimize-rounding", action="store_true", default=None,
                   help="learned (AdaRound-style) weight rounding on every weighted layer (slower; "
                        "at most 400 steps and 2 s per layer); by default only on small layers")
    p.add_argument("--no-optimize-rounding", dest="optimize_rounding", action="store_false",
                   default=None,
                   help="round every weight to nearest (no learned rounding, not even on small "
                        "layers)")
    p.add_argument("--no-equalization", action="store_true",
                   help="do not rescale channels between weighted layers to balance activation "
                        "ranges")
    p.add_argument("--mixed", action="store_true",
                   help="int16 activations on the layers with the worst int8 SQNR, within --max-ram")
    p.add_argument("--max-ram", type=_bytes, metavar="BYTES",
                   help="activation RAM budget for --mixed, in bytes (k/M suffixes allowed)")
    p.add_argument("--allow-float", action="store_true",
                   help="keep operators that cannot be quantized in float instead of failing")
    p.add_argument("--report", action="store_true",
                   help="print SQNR / cosine per tensor and output, top-1 agreement, worst layers")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.set_defaults(func=main)


def _bytes(text: str) -> int:
    """``12000``, ``64k`` or ``1M`` (k = 1024) as a byte count."""
    scale = {"k": 1024, "m": 1024 * 1024}.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit() or int(digits) <= 0:
        raise argparse.ArgumentTypeError(f"not a byte count: {text!r} (e.g. 65536, 64k, 1M)")
    return int(digits) * scale


def main(args: argparse.Namespace) -> int:
    from microforge.api import quantize
    from microforge.frontends.tflite.writer import write_tflite

    source, out = Path(args.model), Path(args.output)
    check_output(source, out, args.force)
    model = quantize(source, args.calibration, per_channel=not args.per_tensor,
                     method=args.method, io=args.io, int16_activations=args.int16_activations,
                     allow_float=args.allow_float, percentile=args.percentile,
                     bias_correction=not args.no_bias_correction,
                     equalization=not args.no_equalization,
                     optimize_rounding=args.optimize_rounding, mixed=args.mixed,
                     max_ram=args.max_ram, progress=False if args.json else None)
    data = write_tflite(model.graph)
    write_atomic(out, data)
    settings = ", ".join(f"{k} {v}" for k, v in model.settings.items())
    if args.json:
        print(json.dumps(model.report().to_dict(), indent=2))
        return 0
    print(f"wrote {args.output} ({len(data):,} bytes; {settings})")
    if model.kept_float:
        print("kept in float: " + ", ".join(model.kept_float))
    if model.mixed:
        m = model.mixed
        print(f"int16 activations on {m['int16_layers']} layer(s): activation RAM "
              f"{m['ram_int8']:,} -> {m['ram_mixed']:,} bytes (budget {m['max_ram']:,}), worst "
              f"output SQNR on the calibration data {m['output_sqnr_int8_db']:.2f} -> "
              f"{m['output_sqnr_mixed_db']:.2f} dB")
    if args.report:
        print(model.report())
    return 0
