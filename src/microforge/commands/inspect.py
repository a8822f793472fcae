"""``microforge inspect``: per-operator table, totals and the TFLM op resolver list."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub) -> None:
    from microforge.commands.compile import add_vela_options

    p = sub.add_parser("inspect", help="per-operator table, totals and the TFLM op resolver list")
    p.add_argument("model", help="model file: .tflite, .onnx, Keras .h5 or .keras")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--target", default=None,
                   help="an Ethos-U configuration (ethos-u55-128, ...): also show where Vela puts "
                        "each operator, why the CPU ones stay there, and Vela's estimates")
    add_vela_options(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from microforge.frontends import read_model
    from microforge.report.npu import render_npu
    from microforge.report.summary import summarize
    from microforge.report.text import render_summary
    from microforge.runtime.registry import prepare_supported

    graph = read_model(args.model)
    prepare_supported(graph.main, graph.metadata)  # what `load` checks: inspect rejects what load rejects
    summary = summarize(graph)
    npu = _npu(args, graph) if args.target is not None else None
    if args.json:
        print(json.dumps(summary.to_dict() | (npu or {}), indent=2))
        return 0
    size = Path(args.model).stat().st_size
    n = len(graph.subgraphs)
    title = (
        f"model: {args.model}  ({size:,} bytes, {len(graph.main.operators)} operators, "
        f"{n} subgraph{'s' if n > 1 else ''})"
    )
    print(render_summary(summary, title))
    if npu is not None:
        print(render_npu(npu))
    return 0


def _npu(args: argparse.Namespace, graph) -> dict:
    from microforge.backends.ethos_u import EthosUBackend, VelaConfig
    from microforge.errors import InputError
    from microforge.report.npu import npu_dict

    if not args.target.startswith("ethos-u"):
        raise InputError(f"inspect --target takes an Ethos-U configuration (ethos-u55-128, ...), "
                         f"not {args.target!r}")
    config = VelaConfig(args.target, args.system_config, args.memory_mode)
    return npu_dict(EthosUBackend(config).compile(graph, Path(args.model).read_bytes()))
