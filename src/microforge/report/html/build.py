"""Everything the HTML report shows, gathered into one JSON-ready dict: the operators and tensors,
the graph layout (Graphviz dot), the memory plans, per-layer cost and, when measured, the
quantization error.

Backend placement and NPU cycles come from a :class:`~microforge.backends.base.CompileReport`
when one is given: each row of ``CompileReport.ops`` names its ``model_index`` and ``backend``
(``"c"`` is the CPU; any other backend is drawn as an accelerator, ``NPU``) and may carry
``npu_cycles``. Without one, ``passes.partition`` over ``backends.BACKENDS`` decides, as
``microforge compile`` would.
"""

from __future__ import annotations

from typing import Any

from microforge.backends import BACKENDS, CompileReport
from microforge.backends.c.compiler import plan_memory
from microforge.errors import MicroforgeError
from microforge.ir import Graph
from microforge.passes.partition import partition
from microforge.report.html.layout import Edge, Node, layout
from microforge.report.html.memory import memory_view
from microforge.report.html.model import operators_of, tensor_label, tensors_of
from microforge.report.text import human

CPU_BACKEND = "c"
CPU_BACKENDS = (CPU_BACKEND, "cpu")  # the C backend; an Ethos-U compile's CPU operators
NO_MEASURED_INSTRUCTIONS = ("no firmware was built, so no instruction estimate: run "
                            "`microforge report --target cortex-m4` (QEMU) for one")


def _placement(graph: Graph, report: CompileReport | None) -> list[dict]:
    """Per operator: the backend that runs it, its NPU cycles and why it is not on the NPU.
    Rows of ``CompileReport.ops`` name the operator (``model_index`` or ``index``) and its
    backend (``backend``, or an Ethos-U compile's ``target``: ``npu`` / ``cpu``)."""
    n = len(graph.main.operators)
    if report is not None and report.ops:
        rows = {r.get("model_index", r.get("index")): r for r in report.ops}
        out = []
        for i in range(n):
            row = rows.get(i, {})
            backend = row.get("backend") or row.get("target") or CPU_BACKEND
            npu = _kind(backend) == "NPU"
            out.append({"backend": backend, "npu_cycles": row.get("npu_cycles") if npu else None,
                        "reason": row.get("reason") or ""})
        return out
    try:
        names = list(partition(graph, BACKENDS).assignment)
    except MicroforgeError:
        names = []
        for i in range(n):
            ok = [b.name for b in BACKENDS if b.supports(graph, i) is None]
            names.append(ok[0] if ok else "python")
    return [{"backend": b, "npu_cycles": None, "reason": ""} for b in names]


def _kind(backend: str) -> str:
    return "CPU" if backend in CPU_BACKENDS else "Python" if backend == "python" else "NPU"


def _instructions(ops: list[dict], report: CompileReport | None) -> dict:
    """Per-operator instruction estimates. QEMU counts whole inferences only (SysTick around
    ``NAME_invoke``), so a firmware's count is shared among the CPU operators by their MACs."""
    fw = report.firmware if report is not None else None
    if not fw:
        return {"total": None, "source": NO_MEASURED_INSTRUCTIONS}
    total = int(fw["instructions_per_inference"]["mean"])
    cpu = [op for op in ops if op["kind"] == "CPU"]
    macs = sum(op["macs"] for op in cpu) or 1
    for op in cpu:
        op["instructions"] = round(total * op["macs"] / macs)
    return {"total": total, "source": f"QEMU -icount on {fw['target']} ({fw['board']}): "
            f"{total:,} instructions per inference, shared among the operators by their MACs "
            "(QEMU has no per-operator counter)"}


def _graph_layout(graph: Graph, ops: list[dict]) -> dict:
    sg = graph.main
    producer = {t: i for i, op in enumerate(sg.operators) for t in op.outputs}
    nodes = [Node(f"op{i}", op["op"], max(1.8, 0.3 + 0.1 * len(op["op"]))) for i, op in enumerate(ops)]
    nodes += [Node(f"in{k}", "input", 1.2, 0.35) for k in range(len(sg.inputs))]
    nodes += [Node(f"out{k}", "output", 1.2, 0.35) for k in range(len(sg.outputs))]
    edges = [Edge(f"in{k}", f"op{i}", tensor_label(sg.tensors[t]), t)
             for k, t in enumerate(sg.inputs) for i, op in enumerate(sg.operators) if t in op.inputs]
    for i, op in enumerate(sg.operators):
        for t in op.inputs:
            if t >= 0 and t in producer:
                edges.append(Edge(f"op{producer[t]}", f"op{i}", tensor_label(sg.tensors[t]), t))
    edges += [Edge(f"op{producer[t]}", f"out{k}", tensor_label(sg.tensors[t]), t)
              for k, t in enumerate(sg.outputs) if t in producer]
    laid = layout(nodes, edges)
    return {"width": laid.width, "height": laid.height, "nodes": laid.nodes, "edges": laid.edges}


def _memory(graph: Graph) -> tuple[dict, dict[int, dict]]:
    """Both plans (``backends.c`` plans the arena) and each tensor's offsets in them."""
    try:
        g = plan_memory(graph)
    except MicroforgeError as exc:
        return {"error": f"no C memory plan: {exc}"}, {}
    view = memory_view(g.layout, g.plan, g.tflm_style_plan, g.order, [s.summary() for s in g.stages])
    offsets: dict[int, dict] = {}
    for plan in view["plans"]:
        for b in plan["buffers"]:
            for t in b["tensors"]:
                offsets.setdefault(t, {})[plan["name"]] = {"buffer": b["key"], "offset": b["offset"],
                                                            "size": b["size"]}
    return view, offsets


def report_data(graph: Graph, *, title: str, target: str | None = None,
                compile_report: CompileReport | None = None, quant: dict | None = None) -> dict[str, Any]:
    """The report of ``graph`` as one dict (the page's embedded JSON). ``quant`` is
    :func:`~microforge.report.html.quant.quant_view`'s result."""
    ops = operators_of(graph)
    for op, place in zip(ops, _placement(graph, compile_report)):
        op.update(backend=place["backend"], kind=_kind(place["backend"]),
                  npu_cycles=place["npu_cycles"], reason=place["reason"], instructions=None)
    instructions = _instructions(ops, compile_report)
    memory, offsets = _memory(graph)
    tensors = tensors_of(graph.main)
    for t in tensors:
        t["arena"] = offsets.get(t["index"], {})
    total_macs = sum(op["macs"] for op in ops)
    arena = {}
    if "plans" in memory:
        arena = {p["name"]: p["size"] for p in memory["plans"]}
        arena["lower bound"] = memory["lower_bound"]
    summary = {"operators": len(ops), "MACs": human(total_macs),
               "weights": f"{sum(op['weight_bytes'] for op in ops):,} B",
               **{f"arena ({k})": f"{v:,} B" for k, v in arena.items()}}
    if compile_report is not None:
        r = compile_report
        flash = r.flash_bytes or r.const_bytes + r.code_bytes
        summary.update({"target": r.target, "RAM": f"{r.ram_bytes:,} B", "flash": f"{flash:,} B"})
    if instructions["total"] is not None:
        summary["instructions / inference"] = f"{instructions['total']:,}"
    npu = compile_report.npu if compile_report is not None else None
    if npu:
        summary["NPU / CPU operators"] = f"{npu['npu_ops']} / {npu['cpu_ops']}"
        summary["NPU cycles (Vela estimate)"] = f"{npu['npu_cycles_estimate']:,}"
        memory["note"] = (f"The {compile_report.target} build plans one arena of "
                          f"{compile_report.arena_bytes:,} B ({compile_report.planner}); the plans "
                          "below are the C library's, for the whole graph on the CPU.")
    return {"title": title, "target": target, "summary": summary, "operators": ops,
            "tensors": tensors, "inputs": list(graph.main.inputs), "outputs": list(graph.main.outputs),
            "graph": _graph_layout(graph, ops), "memory": memory, "instructions": instructions,
            "npu": any(op["npu_cycles"] is not None for op in ops), "quant": quant}
