"""The compile driver: model file -> partition -> plan and emit -> build, verify and measure on a
target -> one :class:`~microforge.backends.base.CompileReport`.

This function is the whole pipeline of ``microforge compile``; the CLI only parses arguments and
renders the report (``microforge.report.compile``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from microforge.backends import BACKENDS, CompileReport
from microforge.backends.c.compiler import MANIFEST, prepare_output_dir
from microforge.backends.ethos_u import DEFAULT_CONFIG, EthosUBackend, VelaConfig
from microforge.backends.ethos_u.check import check_cpu_part
from microforge.frontends import read_model
from microforge.frontends.tflite import write_tflite
from microforge.frontends.validate import validate_graph
from microforge.ir import Graph
from microforge.ir.ops import count_macs
from microforge.passes.partition import partition
from microforge.report.npu import npu_dict, tflm_recipe
from microforge.report.tflm_arena import tflm_arena_bytes
from microforge.targets import BuildOptions, get_target


def default_name(model: str | os.PathLike) -> str:
    """A C identifier from a model file's name (``person_detect.tflite`` -> ``person_detect``)."""
    stem = "".join(ch if ch.isalnum() else "_" for ch in Path(model).stem)
    return stem if stem and not stem[0].isdigit() else f"model_{stem}"


def compile(model: str | os.PathLike | Graph, output: str | os.PathLike, *, name: str | None = None,
            target: str = "host", verify: int = 0, options: BuildOptions | None = None,
            compare_tflm: bool = False, force: bool = False, system_config: str = DEFAULT_CONFIG,
            memory_mode: str = DEFAULT_CONFIG) -> CompileReport:
    """Compile a model (a path or a Graph) into a library in ``output`` for ``target``; with
    ``verify`` N, run N random inputs through the build and compare every output byte with the
    Python runtime. A failed comparison is reported in ``CompileReport.failure``, not raised.

    An Ethos-U ``target`` (``ethos-u55-128`` ...) runs Vela with ``system_config`` and
    ``memory_mode`` (Vela's names) and writes Vela's .tflite and the TFLM recipe
    (``microforge.compile_ethos_u``)."""
    options = options or BuildOptions()
    if target.startswith("ethos-u"):
        return compile_ethos_u(model, output, VelaConfig(target, system_config, memory_mode),
                               name=name, verify=verify, force=force)
    tgt = get_target(target)
    tgt.check_options(options)
    graph, description, name = _read(model, name)
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


def _read(model: str | os.PathLike | Graph, name: str | None) -> tuple[Graph, str, str]:
    if isinstance(model, Graph):  # built in code: the checks read_model makes on a file
        return validate_graph(model), "a TFLite model", name or "model"
    return read_model(model), Path(model).name, name or default_name(model)


def compile_ethos_u(model: str | os.PathLike | Graph, output: str | os.PathLike, config: VelaConfig,
                    *, name: str | None = None, verify: int = 0,
                    force: bool = False) -> CompileReport:
    """Vela decides the placement; the CPU operators must have C kernels (partition with the
    C backend as fallback); writes ``NAME_vela.tflite`` and ``NAME_tflm.txt`` (resolver, arena).
    With ``verify`` N, the CPU operators of Vela's model are checked against the original model
    in the runtime (NPU subgraphs: fed by the original operators they replace). On any error the
    files written so far are removed."""
    graph, _, name = _read(model, name)
    data = None if isinstance(model, Graph) else Path(model).read_bytes()
    backend = EthosUBackend(config)
    npu = backend.compile(graph, data)
    partition(graph, (backend, *BACKENDS))  # every CPU operator needs a C kernel
    out = Path(output)
    d = npu_dict(npu)
    files = {f"{name}_vela.tflite": npu.vela.tflite,
             f"{name}_tflm.txt": tflm_recipe(npu, name).encode()}
    prepare_output_dir(out, force)
    written: list[Path] = []
    try:
        for fname, blob in files.items():
            written.append(out / fname)
            (out / fname).write_bytes(blob)
        (out / MANIFEST).write_text(json.dumps({"files": sorted(files)}, indent=1))
        check = check_cpu_part(npu, verify) if verify else None
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    sg, mem, split = graph.main, npu.memory, npu.flash_split()
    report = CompileReport(
        name=name, directory=str(out), files=sorted(files), target=config.accelerator,
        arena_bytes=mem.arena, arena_lower_bound_bytes=mem.plan.lower_bound,
        arena_tflm_strategy_bytes=mem.arena, planner=mem.plan.strategy, state_bytes=mem.state,
        static_ram_bytes=mem.arena + mem.state, stack_bytes_estimate=0,
        ram_bytes=mem.arena + mem.state, const_bytes=sum(split.values()), code_bytes=0,
        io_bytes=sum(sg.tensors[t].nbytes for t in sg.inputs + sg.outputs),
        macs=sum(count_macs(op, sg) for op in sg.operators), ops=d["npu"]["per_layer"],
        verified=check.samples if check is not None and check.ok else 0,
        differing_bytes=check.differing_bytes if check is not None else None, npu=d)
    if check is not None and not check.ok:
        report.failure = (f"verification of the CPU operators failed: {check.differing_bytes} "
                          f"differing bytes over {check.samples} inputs")
    return report


def _tflm_arena(model: str | os.PathLike | Graph, graph: Graph) -> int:
    if not isinstance(model, Graph):
        return tflm_arena_bytes(model)
    with tempfile.TemporaryDirectory(prefix="microforge-tflm-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(write_tflite(graph))
        return tflm_arena_bytes(path)
