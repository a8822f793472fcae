"""Command-line front end. Every user error ends as one line on stderr and exit code 2 (usage) or
1 (model or tool error); set MICROFORGE_DEBUG=1 to see tracebacks of unexpected failures."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from microforge.errors import InputError, MicroforgeError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _cmd_inspect(args: argparse.Namespace) -> int:
    from microforge.frontends.tflite_reader import read_tflite
    from microforge.report.summary import summarize
    from microforge.report.text import render_summary

    graph = read_tflite(args.model)
    summary = summarize(graph)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        size = Path(args.model).stat().st_size
        title = (
            f"model: {args.model}  ({size:,} bytes, {len(graph.main.operators)} operators, "
            f"{len(graph.subgraphs)} subgraph{'s' if len(graph.subgraphs) > 1 else ''})"
        )
        print(render_summary(summary, title))
    return 0


def _load_arrays(path: str, names: list[str]) -> dict[str, object] | list[object]:
    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such file")
    try:
        data = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npy/.npz file ({exc})") from None
    if isinstance(data, np.ndarray):
        return [data]
    with data:
        keys = list(data.keys())
        if set(keys) <= set(names):
            return {k: data[k] for k in keys}
        if all(k.startswith("arr_") for k in keys):
            return [data[f"arr_{i}"] for i in range(len(keys))]
        raise InputError(
            f"{path}: arrays {keys} do not match the model's input names {names} "
            "(name them after the inputs, or save them positionally with np.savez(f, a, b))"
        )


def _cmd_run(args: argparse.Namespace) -> int:
    import numpy as np

    from microforge.api import load

    model = load(args.model)
    if args.output and Path(args.output).exists() and not args.force:
        raise InputError(f"{args.output} already exists; choose another path or pass --force")
    x = _load_arrays(args.input, [i.name for i in model.inputs])
    outputs = model.run(x)
    for info, out in zip(model.outputs, outputs):
        print(f"{info.name}: {out.dtype.name}{list(out.shape)}")
        flat = out.reshape(out.shape[0], -1) if out.ndim > 1 else out.reshape(1, -1)
        shown = flat[: args.show]
        for row in shown:
            print("  " + np.array2string(row, max_line_width=120, threshold=16))
        if len(flat) > len(shown):
            print(f"  ... ({len(flat) - len(shown)} more)")
    if args.output:
        np.savez(args.output, **{
            (info.name or f"output_{k}"): out for k, (info, out) in enumerate(zip(model.outputs, outputs))
        })
        print(f"wrote {args.output}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from microforge.demo import run_demo

    return run_demo(args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="microforge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("inspect", help="per-operator table, totals and the TFLM op resolver list")
    p.add_argument("model", help=".tflite file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("run", help="run inputs through the model (leading axis = batch)")
    p.add_argument("model", help=".tflite file")
    p.add_argument("--input", "-i", required=True, help=".npy (one input) or .npz (by input name)")
    p.add_argument("--output", "-o", help="write outputs to this .npz")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.add_argument("--show", type=int, default=4, help="samples to print per output (default 4)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("demo", help="end-to-end demo on a model the package builds")
    p.add_argument("--out", default=None, help="directory for the demo files (default: a temp dir)")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except MicroforgeError as exc:
        print(f"microforge: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `microforge inspect m.tflite | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("microforge: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: one line unless debugging
        if os.environ.get("MICROFORGE_DEBUG"):
            raise
        print(
            f"microforge: internal error: {type(exc).__name__}: {exc} "
            "(set MICROFORGE_DEBUG=1 for a traceback and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
