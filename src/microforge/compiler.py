"""The compile driver: model file -> partition -> plan and emit -> build, verify and measure on a
target -> one :class:`~microforge.backends.base.CompileReport`.

This function is the whole pipeline of ``microforge compile``; the CLI only parses arguments and
renders the report (``microforge.report.compile``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from microforge.backends import BACKENDS, CompileReport
from microforge.backends.c.compiler import MANIFEST
from microforge.backends.ethos_u import DEFAULT_CONFIG, EthosUBackend, VelaConfig
from microforge.backends.ethos_u.check import check_deployed
from microforge.backends.ethos_u.library import measure_code, write_npu_library
from microforge.errors import InputError
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
    ``memory_mode`` (Vela's names) and writes the C library, Vela's .tflite and the TFLM recipe
    (``microforge.compile_ethos_u``; ``options`` apply to the CPU part)."""
    options = options or BuildOptions()
    if target.startswith("ethos-u"):
        return compile_ethos_u(model, output, VelaConfig(target, system_config, memory_mode),
                               name=name, verify=verify, force=force, options=options)
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
                    *, name: str | None = None, verify: int = 0, force: bool = False,
                    options: BuildOptions | None = None) -> CompileReport:
    """Vela decides the placement; the CPU operators must have C kernels (partition with the
    C backend as fallback). Writes the C library (``NAME.c`` / ``NAME.h``: the CPU operators by
    the C backend, each NPU subgraph a call of the Ethos-U driver; kernel sources; a Makefile
    taking ``ETHOSU_DRIVER_DIR``), ``NAME_vela.tflite`` and ``NAME_tflm.txt`` (resolver, arena).
    Its code size is measured on a Cortex-M55 build (``options``: optimisation level and DSP
    kernels of the CPU part; the sanitizers need a host build and a driver, so they are refused;
    without arm-none-eabi-gcc, the host compiler's build is measured and the report says so).
    With ``verify`` N, the CPU operators of Vela's model are checked against the original model
    in the runtime (NPU subgraphs: fed by the original operators they replace). On any error the
    files written so far are removed."""
    options = options or BuildOptions()
    if options.sanitize:
        raise InputError("--sanitize builds for the host only; an Ethos-U library runs the NPU "
                         "through the driver on the device (its CPU part is built for Cortex-M55)")
    graph, description, name = _read(model, name)
    data = None if isinstance(model, Graph) else Path(model).read_bytes()
    backend = EthosUBackend(config)
    npu = backend.compile(graph, data)
    partition(graph, (backend, *BACKENDS))  # every CPU operator needs a C kernel
    out = Path(output)
    extra = {f"{name}_vela.tflite": npu.vela.tflite,
             f"{name}_tflm.txt": tflm_recipe(npu, name).encode()}
    existed, had_manifest = out.exists(), (out / MANIFEST).exists()
    library = None
    try:
        library = write_npu_library(npu, out, name, description, force)
        for fname, blob in extra.items():
            (out / fname).write_bytes(blob)
        files = sorted(library.files + list(extra))
        (out / MANIFEST).write_text(json.dumps({"files": files}, indent=1))
        sizes, built_for = measure_code(out, name, options)
        check = check_deployed(npu, verify) if verify else None
    except BaseException:
        if library is None:  # nothing written (the directory held files microforge did not write)
            raise
        for fname in library.files + list(extra) + ([] if had_manifest else [MANIFEST]):
            (out / fname).unlink(missing_ok=True)
        if not existed:
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    sg, plan = graph.main, library.plan
    state = library.source.state_bytes
    split = npu.flash_split()
    d = npu_dict(npu, code_bytes=sizes.code_bytes, ram_bytes=plan.size + state)
    d["npu"]["sram"]["arena"] = plan.size
    d["npu"]["code_built_for"] = built_for
    if check is not None:
        d["npu"]["verification"] = check.how
    report = CompileReport(
        name=name, directory=str(out), files=files, target=config.accelerator,
        arena_bytes=plan.size, arena_lower_bound_bytes=plan.lower_bound,
        arena_tflm_strategy_bytes=npu.memory.arena, planner=plan.strategy, state_bytes=state,
        static_ram_bytes=plan.size + state, stack_bytes_estimate=sizes.stack_bytes,
        ram_bytes=plan.size + state + sizes.stack_bytes, const_bytes=sum(split.values()),
        code_bytes=sizes.code_bytes,
        io_bytes=sum(sg.tensors[t].nbytes for t in sg.inputs + sg.outputs),
        macs=sum(count_macs(op, sg) for op in sg.operators), ops=d["npu"]["per_layer"],
        verified=check.samples if check is not None and check.ok else 0,
        differing_bytes=check.differing_bytes if check is not None else None, npu=d)
    if check is not None and not check.ok:
        report.failure = (f"verification of the deployed model failed: {check.differing_bytes} "
                          f"differing bytes over {check.samples} inputs")
    return report


def _tflm_arena(model: str | os.PathLike | Graph, graph: Graph) -> int:
    if not isinstance(model, Graph):
        return tflm_arena_bytes(model)
    with tempfile.TemporaryDirectory(prefix="microforge-tflm-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(write_tflite(graph))
        return tflm_arena_bytes(path)
