"""``microforge report``: one self-contained HTML page about a model (graph, memory plan,
per-layer cost, quantization error)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from microforge.commands.output import check_output, write_atomic
from microforge.errors import InputError, ModelError


def register(sub) -> None:
    from microforge.backends.ethos_u.vela import KNOWN_ACCELERATORS
    from microforge.targets import TARGETS

    p = sub.add_parser("report", help="write a self-contained HTML report of a model")
    p.add_argument("model", help=".tflite, .onnx, .h5 or .keras model")
    p.add_argument("-o", "--output", required=True, help="the .html file to write")
    p.add_argument("--target", default=None, choices=list(TARGETS) + list(KNOWN_ACCELERATORS),
                   help="also compile, build and verify for this target (a temporary folder) and "
                        "report its flash, RAM and, on Cortex-M under QEMU, instructions; an "
                        "Ethos-U target adds Vela's placement and NPU cycles per operator")
    p.add_argument("--calibration", "-c", default=None,
                   help=".npy/.npz or a folder of them: per-layer SQNR / cosine against the float "
                        "model (a float MODEL is quantized for the report)")
    p.add_argument("--float", dest="float_model", default=None,
                   help="with --calibration, for a quantized MODEL: the float model it came from")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.set_defaults(func=main)


def html_report(graph, title: str, output: Path, *, target: str | None = None,
                compile_report=None, quant: dict | None = None) -> int:
    """Write the report of ``graph`` to ``output``; returns its size in bytes."""
    from microforge.report.html import render_html, report_data

    data = report_data(graph, title=title, target=target, compile_report=compile_report, quant=quant)
    text = render_html(data).encode("utf-8")
    write_atomic(output, text)
    return len(text)


def main(args: argparse.Namespace) -> int:
    from microforge.frontends import read_model
    from microforge.report.html.quant import measure

    source, out = Path(args.model), Path(args.output)
    check_output(source, out, args.force)
    if args.float_model is not None and args.calibration is None:
        raise InputError("--float needs --calibration DATA (the inputs to compare on)")
    graph, quant = read_model(source), None
    if args.calibration is not None:
        float_graph = read_model(Path(args.float_model)) if args.float_model else None
        graph, quant = measure(graph, args.calibration, float_graph)
    compiled = None
    if args.target is not None:
        from microforge.compiler import compile, default_name

        with tempfile.TemporaryDirectory(prefix="microforge-report-") as tmp:
            compiled = compile(graph, tmp, name=default_name(source), target=args.target, verify=1)
        if compiled.failure:
            raise ModelError(compiled.failure)
    size = html_report(graph, source.name, out, target=args.target, compile_report=compiled, quant=quant)
    print(f"wrote {out} ({size:,} bytes): {len(graph.main.operators)} operators"
          + (f", quantization measured on {quant['samples']} samples" if quant else ""))
    return 0
