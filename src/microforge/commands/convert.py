"""``microforge convert``: any model microforge reads (.onnx, Keras .h5 / .keras, .tflite) to a
.tflite file that TFLM runs: float stays float, quantized ONNX (QDQ / QOperator) becomes int8."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from microforge.commands.output import check_output, write_atomic


def register(sub) -> None:
    p = sub.add_parser("convert", help="write a model (.onnx, .h5, .keras) as a .tflite for TFLM")
    p.add_argument("model", help="model file: .onnx, Keras .h5 or .keras, or .tflite (only read)")
    p.add_argument("--output", "-o", required=True, help=".tflite file to write")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from microforge.frontends import format_of, read_model, write_tflite
    from microforge.report.summary import summarize

    source, out = Path(args.model), Path(args.output)
    check_output(source, out, args.force)
    graph = read_model(source)
    data = write_tflite(graph)
    write_atomic(out, data)
    summary = summarize(graph)
    dtypes = sorted({t.dtype for t in summary.inputs + summary.outputs})
    result = {"model": str(source), "format": format_of(source), "output": str(out), "bytes": len(data),
              "operators": len(graph.main.operators), "io_dtypes": dtypes, "layout": summary.layout,
              "unsupported": summary.unsupported}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"wrote {out} ({len(data):,} bytes, {result['operators']} operators, "
          f"{'/'.join(dtypes)} inputs and outputs)")
    for m in summary.layout:
        print(f"  {m['kind']} {m['name']}: model layout [{','.join(map(str, m['source_shape']))}]"
              f" -> .tflite [{','.join(map(str, m['ir_shape']))}]")
    if summary.unsupported:
        print("not supported by microforge's runtime: " + ", ".join(summary.unsupported))
    return 0

