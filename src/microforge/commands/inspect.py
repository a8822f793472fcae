"""``microforge inspect``: per-operator table, totals and the TFLM op resolver list."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("inspect", help="per-operator table, totals and the TFLM op resolver list")
    p.add_argument("model", help="model file: .tflite, .onnx, Keras .h5 or .keras")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from microforge.frontends import read_model
    from microforge.report.summary import summarize
    from microforge.report.text import render_summary

    graph = read_model(args.model)
    summary = summarize(graph)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    size = Path(args.model).stat().st_size
    n = len(graph.subgraphs)
    title = (
        f"model: {args.model}  ({size:,} bytes, {len(graph.main.operators)} operators, "
        f"{n} subgraph{'s' if n > 1 else ''})"
    )
    print(render_summary(summary, title))
    return 0
