"""``microforge demo``: the pipeline end to end on the model the package builds (demo_model.py)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from microforge.api import load
from microforge.apps.demo_model import LABELS, build_demo_graph
from microforge.frontends.tflite.writer import write_tflite
from microforge.report.summary import summarize
from microforge.report.text import render_summary


def _step(n: int, text: str) -> None:
    print(f"\n[{n}] {text}")


def _tflm_outputs(data: bytes, x: np.ndarray) -> np.ndarray | None:
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        return None
    interp = runtime.Interpreter.from_bytes(data, arena_size=1 << 20)
    outs = []
    for sample in x:
        interp.set_input(sample, 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0)))
    return np.stack(outs)


def run_demo(out_dir: str | None = None, batch: int = 256) -> int:
    if out_dir is None:
        out_dir = tempfile.mkdtemp(prefix="microforge-demo-")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "demo_kws.tflite"

    _step(1, "build the demo model (int8 DS-CNN keyword-spotter shape) and write it as .tflite")
    data = write_tflite(build_demo_graph())
    path.write_bytes(data)
    print(f"    wrote {path} ({len(data):,} bytes)")

    _step(2, "inspect it")
    model = load(path)
    print("    " + render_summary(summarize(model.graph), f"model: {path.name}").replace("\n", "\n    "))

    _step(3, f"run a batch of {batch} random feature maps in the numpy runtime")
    info = model.inputs[0]
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 127, size=(batch,) + info.shape, endpoint=True, dtype=np.int8)
    t0 = time.perf_counter()
    (probs,) = model.run(x)
    elapsed = time.perf_counter() - t0
    top = np.bincount(probs.reshape(batch, -1).argmax(axis=1), minlength=len(LABELS))
    print(f"    {batch} samples in {elapsed * 1e3:.1f} ms ({elapsed / batch * 1e6:.1f} us/sample)")
    print("    top-1 counts: " + ", ".join(f"{lab} {n}" for lab, n in zip(LABELS, top)))

    _step(4, "check bit-exactness against TensorFlow Lite Micro (the tflite-micro package)")
    expected = _tflm_outputs(data, x)
    if expected is None:
        print("    tflite-micro is not installed (pip install 'microforge[verify]'): skipped")
    else:
        differing = int(np.count_nonzero(expected != probs))
        same = int(np.sum(np.all(expected.reshape(batch, -1) == probs.reshape(batch, -1), axis=1)))
        print(f"    {same}/{batch} samples identical, {differing} differing bytes")
        if differing:
            print("    MISMATCH: please report this model and input")
            return 1
    _step(5, "compile it to a standalone C99 library, build it and verify it byte for byte")
    if _compile_step(model, out) != 0:
        return 1
    print(f"\ndemo files are in {out}")
    return 0


def _compile_step(model, out: Path) -> int:
    from microforge.backends.c.compiler import compile_model
    from microforge.errors import ToolError
    from microforge.targets.host import verify
    from microforge.targets.sizes import measure

    lib = out / "c"
    compiled = compile_model(model.graph, lib, name="demo_kws", force=True,
                             description="the microforge demo model")
    print(f"    wrote {lib}/: {', '.join(compiled.files)}")
    print(f"    arena {compiled.arena_bytes:,} B ({compiled.plan.strategy}; TFLM's greedy planner "
          f"on the same buffers: {compiled.tflm_style_plan.size:,} B)")
    try:
        sizes = measure(lib, "demo_kws")
        result = verify(lib, "demo_kws", model.graph, 200)
    except ToolError as exc:
        print(f"    {exc}: build and verify skipped")
        return 0
    print(f"    RAM {sizes.ram_bytes:,} B, flash {sizes.code_bytes + sizes.const_bytes:,} B "
          f"(constants {sizes.const_bytes:,} + code {sizes.code_bytes:,})")
    print(f"    C vs Python runtime: {result.samples} random inputs, "
          f"{result.differing_bytes} differing bytes")
    return 0 if result.ok else 1
