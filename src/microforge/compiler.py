"""The compile driver: model file -> partition -> plan and emit -> build, verify and measure on a
target -> one :class:`~microforge.backends.base.CompileReport`.

This function is the whole pipeline of ``microforge compile``; the CLI only parses arguments and
renders the report (``microforge.report.compile``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from microforge.backends import BACKENDS, CompileReport
from microforge.frontends import read_model
from microforge.frontends.tflite import write_tflite
from microforge.ir import Graph
from microforge.passes.partition import partition
from microforge.report.tflm_arena import tflm_arena_bytes
from microforge.targets import BuildOptions, get_target


def default_name(model: str | os.PathLike) -> str:
    """A C identifier from a model file's name (``person_detect.tflite`` -> ``person_detect``)."""
    stem = "".join(ch if ch.isalnum() else "_" for ch in Path(model).stem)
    return stem if stem and not stem[0].isdigit() else f"model_{stem}"


def compile(model: str | os.PathLike | Graph, output: str | os.PathLike, *, name: str | None = None,
            target: str = "host", verify: int = 0, options: BuildOptions | None = None,
            compare_tflm: bool = False, force: bool = False) -> CompileReport:
    """Compile a model (a path or a Graph) into a library in ``output`` for ``target``; with
    ``verify`` N, run N random inputs through the build and compare every output byte with the
    Python runtime. A failed comparison is reported in ``CompileReport.failure``, not raised."""
    options = options or BuildOptions()
    tgt = get_target(target)
    tgt.check_options(options)
    if isinstance(model, Graph):
        graph, description = model, "a TFLite model"
        name = name or "model"
    else:
        graph, description = read_model(model), Path(model).name
        name = name or default_name(model)
    assigned = partition(graph, BACKENDS)
    cpu = BACKENDS[-1]  # the C backend: today it is assigned every operator
    planned = cpu.plan(graph, assigned.ops_of(cpu.name), name, description)
    library = cpu.emit(planned, Path(output), name, force)
    measured = cpu.build_and_verify(library, graph, tgt, verify, options)
    report = cpu.report(library, measured, graph, tgt, verify)
    if report.failure:
        return report
    if compare_tflm:
        report.tflm_arena_bytes = _tflm_arena(model, graph)
    return report


def _tflm_arena(model: str | os.PathLike | Graph, graph: Graph) -> int:
    if not isinstance(model, Graph):
        return tflm_arena_bytes(model)
    with tempfile.TemporaryDirectory(prefix="microforge-tflm-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(write_tflite(graph))
        return tflm_arena_bytes(path)
