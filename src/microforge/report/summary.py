"""Per-operator summary of a model: shapes, dtypes, weight bytes, MACs, support status."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from microforge.ir import Graph, Subgraph, source_shape
from microforge.ir.ops import count_macs
from microforge.report.tflm_resolver import resolver_method
from microforge.runtime.registry import lookup


@dataclass
class TensorSummary:
    index: int
    name: str
    shape: list[int]
    dtype: str
    scale: float | None = None
    zero_point: int | None = None


@dataclass
class OpSummary:
    index: int
    op: str
    inputs: list[TensorSummary]
    outputs: list[TensorSummary]
    weight_bytes: int
    macs: int
    supported: bool


@dataclass
class ModelSummary:
    operators: list[OpSummary]
    inputs: list[TensorSummary]
    outputs: list[TensorSummary]
    weight_bytes: int
    macs: int
    unsupported: list[str]
    tflm_resolver: list[str]
    tflm_unregistered: list[str] = field(default_factory=list)
    subgraphs: int = 1
    source_format: str = ""
    layout: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _tensor(sg: Subgraph, i: int) -> TensorSummary:
    t = sg.tensors[i]
    q = t.quant
    quantized = q is not None and q.is_quantized and not q.per_channel
    return TensorSummary(
        index=i,
        name=t.name,
        shape=list(t.shape),
        dtype=t.dtype.name if t.type_name not in ("INT4",) else "int4",
        scale=float(q.scale[0]) if quantized else None,
        zero_point=int(q.zero_point[0]) if quantized and q.zero_point.size else None,
    )


def summarize(graph: Graph) -> ModelSummary:
    sg = graph.main
    seen: set[int] = set()
    ops, unsupported, methods, unregistered = [], [], [], []
    total_weights = total_macs = 0
    for i, op in enumerate(sg.operators):
        weight_bytes = 0
        for t_idx in op.inputs:
            if t_idx < 0:
                continue
            t = sg.tensors[t_idx]
            if t.data is not None and not t.is_variable and t_idx not in seen:
                seen.add(t_idx)
                weight_bytes += t.data.nbytes
        macs = count_macs(op, sg)
        supported = lookup(op.opcode) is not None
        if not supported:
            unsupported.append(f"{op.opcode} (operator {i})")
        method = resolver_method(op.opcode, op.custom)
        if method is None:
            if op.opcode not in unregistered:
                unregistered.append(op.opcode)
        elif method not in methods:
            methods.append(method)
        total_weights += weight_bytes
        total_macs += macs
        ops.append(
            OpSummary(
                index=i,
                op=op.opcode,
                inputs=[_tensor(sg, k) for k in op.inputs if k >= 0],
                outputs=[_tensor(sg, k) for k in op.outputs],
                weight_bytes=weight_bytes,
                macs=macs,
                supported=supported,
            )
        )
    return ModelSummary(
        operators=ops,
        inputs=[_tensor(sg, k) for k in sg.inputs],
        outputs=[_tensor(sg, k) for k in sg.outputs],
        weight_bytes=total_weights,
        macs=total_macs,
        unsupported=unsupported,
        tflm_resolver=methods,
        tflm_unregistered=unregistered,
        subgraphs=len(graph.subgraphs),
        source_format=graph.source.format if graph.source else "",
        layout=_layout(graph),
    )


def _layout(graph: Graph) -> list[dict]:
    """How each input/output of a model from another framework maps to the channels-last IR:
    one entry per tensor whose layout differs."""
    if graph.source is None:
        return []
    sg, out = graph.main, []
    for kind, indices, perm_of in (("input", sg.inputs, graph.source.input_perm),
                                   ("output", sg.outputs, graph.source.output_perm)):
        for k, i in enumerate(indices):
            perm = perm_of(k)
            if perm is None:
                continue
            t = sg.tensors[i]
            out.append({"kind": kind, "name": t.name, "source_shape": list(source_shape(t.shape, perm)),
                        "ir_shape": list(t.shape), "perm": list(perm)})
    return out
