"""Structural comparison of two graphs (used by round-trip tests and the writer's self-check)."""

from __future__ import annotations

from typing import Any

import numpy as np

from microforge.ir.graph import Graph, Operator, Tensor


def _value_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def _tensor_diff(a: Tensor, b: Tensor) -> str | None:
    for field in ("name", "shape", "dtype", "is_variable", "type_name", "quant"):
        if getattr(a, field) != getattr(b, field):
            return f"{field}: {getattr(a, field)!r} != {getattr(b, field)!r}"
    if (a.data is None) != (b.data is None):
        return "one has constant data, the other not"
    if a.data is not None and not np.array_equal(a.data, b.data):
        return "constant data differs"
    return None


def _operator_diff(a: Operator, b: Operator) -> str | None:
    for field in ("opcode", "inputs", "outputs", "custom", "custom_options", "intermediates"):
        if getattr(a, field) != getattr(b, field):
            return f"{field}: {getattr(a, field)!r} != {getattr(b, field)!r}"
    if a.options.keys() != b.options.keys():
        return f"option keys {sorted(a.options)} != {sorted(b.options)}"
    for k in a.options:
        if not _value_equal(a.options[k], b.options[k]):
            return f"option {k}: {a.options[k]!r} != {b.options[k]!r}"
    return None


def graph_differences(a: Graph, b: Graph) -> list[str]:
    """Human-readable differences between two graphs; empty when they are the same graph."""
    diffs = []
    if len(a.subgraphs) != len(b.subgraphs):
        return [f"{len(a.subgraphs)} subgraphs != {len(b.subgraphs)}"]
    for s, (sa, sb) in enumerate(zip(a.subgraphs, b.subgraphs)):
        if (sa.inputs, sa.outputs) != (sb.inputs, sb.outputs):
            diffs.append(f"subgraph {s}: inputs/outputs differ")
        if len(sa.tensors) != len(sb.tensors) or len(sa.operators) != len(sb.operators):
            diffs.append(f"subgraph {s}: tensor or operator count differs")
            continue
        for i, (ta, tb) in enumerate(zip(sa.tensors, sb.tensors)):
            d = _tensor_diff(ta, tb)
            if d:
                diffs.append(f"subgraph {s} tensor {i}: {d}")
        for i, (oa, ob) in enumerate(zip(sa.operators, sb.operators)):
            d = _operator_diff(oa, ob)
            if d:
                diffs.append(f"subgraph {s} operator {i}: {d}")
    if a.metadata != b.metadata:
        diffs.append("metadata differs")
    if a.signatures != b.signatures:
        diffs.append("signatures differ")
    return diffs
