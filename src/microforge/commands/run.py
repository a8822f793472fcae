"""``microforge run``: run inputs from .npy/.npz through the numpy runtime."""

from __future__ import annotations

import argparse
from pathlib import Path

from microforge.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("run", help="run inputs through the model (leading axis = batch)")
    p.add_argument("model", help="model file: .tflite, .onnx, Keras .h5 or .keras")
    p.add_argument("--input", "-i", required=True, help=".npy (one input) or .npz (by input name)")
    p.add_argument("--output", "-o", help="write outputs to this .npz")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.add_argument("--show", type=int, default=4, help="samples to print per output (default 4)")
    p.set_defaults(func=main)


def load_arrays(path: str, names: list[str]) -> dict[str, object] | list[object]:
    """Arrays from a .npy (one input) or .npz (by input name, or saved positionally)."""
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


def main(args: argparse.Namespace) -> int:
    import numpy as np

    from microforge.api import load

    model = load(args.model)
    if args.output and Path(args.output).exists() and not args.force:
        raise InputError(f"{args.output} already exists; choose another path or pass --force")
    x = load_arrays(args.input, [i.name for i in model.inputs])
    outputs = model.run(x)
    npu = sum(op.opcode == "ethos-u" for op in model.graph.main.operators)
    if npu:
        print(f"{npu} Ethos-U NPU subgraph(s): emulated by microforge's command-stream emulator "
              "(not silicon)")
    for info, out in zip(model.outputs, outputs):
        print(f"{info.name}: {out.dtype.name}{list(out.shape)}")
        flat = out.reshape(out.shape[0], -1) if out.ndim > 1 else out.reshape(1, -1)
        shown = flat[: args.show]
        for row in shown:
            print("  " + np.array2string(row, max_line_width=120, threshold=16))
        if len(flat) > len(shown):
            print(f"  ... ({len(flat) - len(shown)} more)")
    if args.output:
        named = {
            (info.name or f"output_{k}"): out
            for k, (info, out) in enumerate(zip(model.outputs, outputs))
        }
        np.savez(args.output, **named)
        print(f"wrote {args.output}")
    return 0
