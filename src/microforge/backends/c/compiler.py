"""``compile_model``: graph → memory plan → C library in a directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from microforge import limits
from microforge.backends.c.cdata import ctype
from microforge.backends.c.emit import ModelSource, render
from microforge.backends.c.emitter import EmitContext, OpEmitter, emitter_for
from microforge.backends.c.patch import STAGE_EMITTER, Stage, StageParams, choose_stages, fuse
from microforge.backends.c.sources import kernel_files
from microforge.errors import InputError, UnsupportedOpError
from microforge.ir import Graph, Subgraph
from microforge.planner.best_fit import plan_best
from microforge.planner.greedy import plan_greedy_by_size
from microforge.planner.lifetimes import MemoryLayout, OpMemory, layout_memory
from microforge.planner.plan import ArenaPlan, verify_plan
from microforge.planner.schedule import choose_order, reordered
from microforge.runtime.interpreter import variable_initial_value
from microforge.runtime.registry import OpContext, PreparedOp, prepare_operator

MANIFEST = ".microforge-manifest.json"


@dataclass
class CompiledModel:
    name: str
    directory: Path
    files: list[str]
    plan: ArenaPlan
    tflm_style_plan: ArenaPlan
    layout: MemoryLayout
    source: ModelSource
    op_rows: list[dict] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)  # patch stages (first/last: model order)

    @property
    def arena_bytes(self) -> int:
        return self.plan.size


def check_name(name: str) -> str:
    if not name.isidentifier() or not name.isascii():
        raise InputError(f"--name {name!r} is not a valid C identifier")
    return name


def _pointer_factory(graph: Graph, layout: MemoryLayout, plan: ArenaPlan, variables: dict):
    sg = graph.main

    def pointer(t: int) -> str:
        tensor = sg.tensors[t]
        c_t = ctype(tensor.dtype)
        st = layout.storage[t]
        if st.kind == "input":
            return f"in{st.index}"
        if st.kind == "output":
            return f"out{st.index}"
        if st.kind == "arena":
            return f"(({c_t} *)(mf_arena.bytes + {plan.offsets[st.index] + st.offset}))"
        if st.kind == "state":
            return variables[t]
        raise UnsupportedOpError(f"tensor {t} ({tensor.name!r}) has no storage a kernel can use")

    return pointer


def prepare_output_dir(out: Path, force: bool) -> None:
    """Refuse to write into a directory holding files microforge did not write (unless force)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory")
    if not out.exists():
        out.mkdir(parents=True)
        return
    ours: set[str] = set()
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            ours = set(json.loads(manifest.read_text())["files"])
        except (ValueError, KeyError, TypeError):
            ours = set()
    foreign = sorted(
        str(p.relative_to(out)) for p in out.rglob("*")
        if p.is_file() and p.name != MANIFEST and str(p.relative_to(out)) not in ours
    )
    if foreign and not force:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise InputError(
            f"{out} holds files microforge did not write ({shown}); "
            "choose an empty directory or pass --force"
        )
    for name in ours:
        p = out / name
        if p.is_file():
            p.unlink()


@dataclass
class _Op:
    """One operator on its way to C: prepared params, its emitter and its memory needs."""

    prepared: PreparedOp
    emitter: OpEmitter
    memory: OpMemory


def _prepare(graph: Graph, extra: dict[str, OpEmitter]) -> list[_Op]:
    ops = []
    for i, op in enumerate(graph.main.operators):
        if op.opcode in extra:  # an operator the runtime does not run: no params
            ctx = OpContext(op=op, index=i, subgraph=graph.main)
            prepared, emitter = PreparedOp(ctx, None, None), extra[op.opcode]
        else:
            prepared = prepare_operator(graph.main, i)
            emitter = emitter_for(prepared.ctx)
        ops.append(_Op(prepared, emitter, emitter.memory(prepared.ctx, prepared.params)))
    return ops


def _in_order(graph: Graph, ops: list[_Op], order: list[int]) -> tuple[Graph, list[_Op]]:
    """The graph with its operators run in ``order``; prepared params and memory needs do not
    depend on the order, so they are reused with contexts that point at the new subgraph."""
    if order == list(range(len(ops))):
        return graph, ops
    sg = reordered(graph.main, order)
    graph = Graph([sg] + graph.subgraphs[1:], graph.description, graph.version, graph.metadata,
                  graph.signatures)
    moved = []
    for k, i in enumerate(order):
        old = ops[i].prepared
        ctx = OpContext(op=sg.operators[k], index=k, subgraph=sg)
        moved.append(_Op(PreparedOp(ctx, old.kernel, old.params), ops[i].emitter, ops[i].memory))
    return graph, moved


def _patched(graph: Graph, ops: list[_Op], order: list[int],
             stages: list[Stage]) -> tuple[Graph, list[_Op], list[int]]:
    """The graph with each patch stage as one operator (``backends.c.patch``); its members'
    prepared params and emitters travel in the stage's params."""
    sg, _ = fuse(graph.main, [op.memory for op in ops], stages)
    graph = Graph([sg] + graph.subgraphs[1:], graph.description, graph.version, graph.metadata,
                  graph.signatures)
    starts = {s.first: s for s in stages}
    fused, new_order, i = [], [], 0
    while i < len(ops):
        k = len(fused)
        ctx = OpContext(op=sg.operators[k], index=k, subgraph=sg)
        stage = starts.get(i)
        if stage is None:
            old = ops[i].prepared
            fused.append(_Op(PreparedOp(ctx, old.kernel, old.params), ops[i].emitter, ops[i].memory))
            new_order.append(order[i])
            i += 1
            continue
        members = ops[stage.first:stage.last + 1]
        tail = ops[stage.tail.index].prepared if stage.tail else None
        params = StageParams(stage, [m.prepared for m in members], [m.emitter for m in members], tail)
        fused.append(_Op(PreparedOp(ctx, None, params), STAGE_EMITTER, stage.memory()))
        new_order.append(order[i])
        i = stage.end + 1
    return graph, fused, new_order


@dataclass
class Generated:
    """The C of one model before it is written: the memory plan and every operator's code."""

    ops: list[_Op]
    layout: MemoryLayout
    plan: ArenaPlan
    tflm_style_plan: ArenaPlan  # TFLM's greedy strategy on the same buffers, in model order
    contexts: list[EmitContext]
    source: ModelSource
    order: list[int]  # model operator index of each emitted operator (a stage's first member)
    stages: list[Stage] = field(default_factory=list)  # patch stages (first/last: model order)


@dataclass
class FixedPlan:
    """A memory plan made outside the C backend (by an NPU backend, around its own region): the
    layout (where each tensor is, the buffers, the scratch of each operator) and the arena plan of
    those buffers. The operators then run in model order. A graph input or output the layout keeps
    in the arena is copied from / to the caller's buffer at the start / end of ``NAME_invoke``."""

    layout: MemoryLayout
    plan: ArenaPlan
    align: int = 0  # the arena's alignment in bytes, when it must exceed 8


#: Plans a subgraph's memory given each operator's needs (see :class:`FixedPlan`).
Planner = Callable[[Subgraph, list[OpMemory]], FixedPlan]


@dataclass
class MemoryPlan:
    """The arena of a graph as the C library lays it out, before any C is written."""

    graph: Graph  # with its operators in execution order
    ops: list[_Op]
    layout: MemoryLayout
    plan: ArenaPlan
    tflm_style_plan: ArenaPlan  # TFLM's greedy strategy on the same buffers, in model order
    order: list[int]  # model operator index of each step (a patch stage's first member)
    align: int = 0  # the arena's alignment in bytes, when it must exceed 8
    stages: list[Stage] = field(default_factory=list)  # patch stages, first/last in model order


def plan_memory(graph: Graph, planner: Planner | None = None,
                emitters: dict[str, OpEmitter] | None = None, patches: bool = True) -> MemoryPlan:
    """Prepare every operator, choose the execution order and plan the arena (the part of
    :func:`generate` the HTML report shows). ``planner``: a fixed plan instead of the C backend's
    (order search, best fit); ``emitters``: emitters of operators the runtime does not run;
    ``patches``: run chains of convolutions band by band where that lowers the arena
    (``backends.c.patch``)."""
    ops = _prepare(graph, emitters or {})
    sg = graph.main
    memory = [op.memory for op in ops]
    if planner is not None:
        fixed = planner(sg, memory)
        verify_plan(fixed.plan)
        return MemoryPlan(graph, ops, fixed.layout, fixed.plan, fixed.plan, list(range(len(ops))),
                          fixed.align)
    tflm_plan = plan_greedy_by_size(layout_memory(sg, memory).buffers)  # TFLM: model order

    def arena_for(order: list[int]) -> int:
        return plan_best(layout_memory(reordered(sg, order), [memory[i] for i in order]).buffers).size

    order = choose_order(sg, arena_for)
    graph, ops = _in_order(graph, ops, order)
    layout = layout_memory(graph.main, [op.memory for op in ops])
    plan = plan_best(layout.buffers)
    stages = choose_stages(graph.main, [op.prepared for op in ops], [op.memory for op in ops],
                           plan.size) if patches else []
    if stages:
        graph, ops, new_order = _patched(graph, ops, order, stages)
        stages = [replace(s, first=order[s.first], last=order[s.last],
                          tail=replace(s.tail, index=order[s.tail.index]) if s.tail else None)
                  for s in stages]
        order = new_order
        layout = layout_memory(graph.main, [op.memory for op in ops])
        plan = plan_best(layout.buffers)
    verify_plan(plan)
    return MemoryPlan(graph, ops, layout, plan, tflm_plan, order, stages=stages)


def _check_outputs_computed(graph: Graph) -> None:
    """The library writes each output from an operator or an input; a model whose output is a
    constant tensor (legal in TFLite, rare) is refused rather than given an unwritten buffer."""
    sg = graph.main
    for k, t in enumerate(sg.outputs):
        if sg.tensors[t].data is not None:
            raise UnsupportedOpError(
                f"model output {k} (tensor {t}, {sg.tensors[t].name!r}) is a constant: the C "
                "backend writes outputs from operators only; compute it in the caller instead"
            )


def generate(graph: Graph, name: str, description: str, planner: Planner | None = None,
             emitters: dict[str, OpEmitter] | None = None, can_fail: str = "",
             patches: bool = True) -> Generated:
    """Plan memory (:func:`plan_memory`) and emit C for every operator; returns the pieces
    ``compile_model`` writes. ``emitters`` are called with params None; ``can_fail``: why
    ``NAME_invoke`` may return -1 (for its header); ``patches``: allow patch stages."""
    _check_outputs_computed(graph)
    planned = plan_memory(graph, planner, emitters, patches)
    graph, ops, layout, plan = planned.graph, planned.ops, planned.layout, planned.plan
    limits.ARENA_BYTES.check(plan.size, "the planned arena")  # before any C is written
    tflm_plan, order, align = planned.tflm_style_plan, planned.order, planned.align
    sg = graph.main
    variables, resets, in_arena = {}, [], []
    for t, tensor in enumerate(sg.tensors):
        if not tensor.is_variable or layout.storage[t].kind == "arena":
            continue
        symbol = f"mf_state_t{t}"
        variables[t] = symbol
        value = variable_initial_value(tensor)
        resets.append((symbol, ctype(tensor.dtype), tensor.size, str(int(value))))
    pointer = _pointer_factory(graph, layout, plan, variables)
    for t, tensor in enumerate(sg.tensors):  # variables a fixed plan keeps in the arena
        if not tensor.is_variable or layout.storage[t].kind != "arena":
            continue
        reset = (pointer(t), tensor.size, str(int(variable_initial_value(tensor))))
        if reset not in in_arena:  # Vela may give several state tensors the same bytes
            in_arena.append(reset)
    contexts = []
    for i, op in enumerate(ops):
        scratch = None
        if i in layout.scratch:
            scratch = f"(mf_arena.bytes + {plan.offsets[layout.scratch[i]]})"
        ctx = op.prepared.ctx
        e = EmitContext(ctx, pointer, scratch_expr=scratch, prefix=f"op{i}")
        if i not in layout.views:
            op.emitter.emit(ctx, op.prepared.params, e)
        contexts.append(e)
    copy_in = [f"memcpy({pointer(t)}, in{k}, {sg.tensors[t].nbytes});"
               for k, t in enumerate(sg.inputs) if layout.storage[t].kind == "arena"]
    copy_out = [f"memcpy(out{k}, {pointer(t)}, {sg.tensors[t].nbytes});"
                for k, t in enumerate(sg.outputs) if layout.storage[t].kind == "arena"]
    source = render(name, sg, layout, plan, contexts, bool(variables or in_arena) or any(
        e.state for e in contexts), resets, description, copy_in, copy_out, can_fail, align,
        in_arena)
    return Generated(ops, layout, plan, tflm_plan, contexts, source, order, planned.stages)


def compile_model(graph: Graph, out_dir: str | Path, name: str = "model", force: bool = False,
                  description: str = "a TFLite model", patches: bool = True) -> CompiledModel:
    """Plan and emit the whole graph as C (:func:`generate`), then write the library."""
    name = check_name(name)
    return write_library(generate(graph, name, description, patches=patches), name, out_dir, force)


def write_library(g: Generated, name: str, out_dir: str | Path, force: bool = False,
                  makefile_extra: str = "", cmake_extra: str = "") -> CompiledModel:
    """Write a generated library into ``out_dir``: the model's .c/.h, the kernel files it needs,
    a Makefile, a CMakeLists.txt and the manifest of what microforge wrote. ``makefile_extra`` /
    ``cmake_extra``: lines added to the build files (an NPU driver's include path)."""
    ops, layout, plan, contexts, source, order = g.ops, g.layout, g.plan, g.contexts, g.source, g.order
    out = Path(out_dir)
    prepare_output_dir(out, force)
    files = {f"{name}.h": source.header, f"{name}.c": source.source}
    needed = sorted(source.kernel_sources)
    kernels = kernel_files(["mf_common"] + needed)
    files.update(kernels)
    c_files = [f"{name}.c"] + [s + ".c" for s in needed if s + ".c" in kernels]
    files["Makefile"] = _makefile(name, c_files, makefile_extra)
    files["CMakeLists.txt"] = _cmake(name, c_files, cmake_extra)
    for fname, text in files.items():
        (out / fname).write_text(text)
    (out / MANIFEST).write_text(json.dumps({"files": sorted(files)}, indent=1))
    rows = []
    overlapping = plan.overlapping()
    for i, (op, e) in enumerate(zip(ops, contexts)):
        outs = op.prepared.ctx.op.outputs
        st = layout.storage.get(outs[0]) if outs else None
        placement = st.kind if st is not None else "none"
        offset = plan.offsets[st.index] + st.offset if st is not None and st.kind == "arena" else None
        rows.append({
            "index": i, "model_index": order[i], "op": op.prepared.ctx.op.opcode, "backend": "c",
            "output": placement if offset is None else f"arena+{offset}",
            "view": i in layout.views,
            "in_place": layout.inplace.get(i) in overlapping,
            "scratch_bytes": next((b.size for b in layout.buffers if b.scratch_of == i), 0),
            "const_bytes": sum(c.nbytes for c in e.consts),
        })
    return CompiledModel(name, out, sorted(files), plan, g.tflm_style_plan, layout, source, rows,
                         g.stages)


def _makefile(name: str, c_files: list[str], extra: str = "") -> str:
    objs = " ".join(f.replace(".c", ".o") for f in c_files)
    return f"""# Generated by microforge. `make` builds lib{name}.a.
CC ?= cc
CFLAGS ?= -O2
CFLAGS += -std=c99 -Wall -Wextra -Werror -ffp-contract=off
AR ?= ar
{extra}
lib{name}.a: {objs}
\t$(AR) rcs $@ $^

%.o: %.c
\t$(CC) $(CFLAGS) -c $< -o $@

clean:
\trm -f *.o lib{name}.a

.PHONY: clean
"""


def _cmake(name: str, c_files: list[str], extra: str = "") -> str:
    return f"""# Generated by microforge.
cmake_minimum_required(VERSION 3.13)
project({name} C)
add_library({name} STATIC {' '.join(c_files)})
set_property(TARGET {name} PROPERTY C_STANDARD 99)
set_property(TARGET {name} PROPERTY C_STANDARD_REQUIRED ON)
set_property(TARGET {name} PROPERTY C_EXTENSIONS OFF)
target_include_directories({name} PUBLIC ${{CMAKE_CURRENT_SOURCE_DIR}})
if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options({name} PRIVATE -Wall -Wextra -Werror -ffp-contract=off)
endif()
target_link_libraries({name} PUBLIC m)
{extra}"""
