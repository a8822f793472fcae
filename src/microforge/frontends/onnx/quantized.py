"""Quantized ONNX (QDQ or QOperator) -> an int8 IR with TFLM semantics, in three steps:
:mod:`.qoperator` rewrites QOperator nodes to QDQ form, :mod:`.qdq` strips the Q/DQ pairs into
per-value parameters, the float model left is lowered like any float ONNX model, and
:mod:`.to_int8` makes the IR integer with the file's parameters (docs/onnx.md, "Quantized ONNX").
"""

from __future__ import annotations

from typing import Any

from microforge.frontends.onnx.load import load_model
from microforge.frontends.onnx.lower import lower_model
from microforge.frontends.onnx.qdq import is_qdq, strip_qdq
from microforge.frontends.onnx.qoperator import is_qoperator, qoperator_to_qdq
from microforge.frontends.onnx.to_int8 import to_int8
from microforge.ir import Graph


def is_quantized(model: Any) -> bool:
    """The model has QuantizeLinear / DequantizeLinear or QOperator nodes."""
    return any(is_qdq(n, "QuantizeLinear") or is_qdq(n, "DequantizeLinear") or is_qoperator(n)
               for n in model.graph.node)


def lower_quantized(model: Any, where: str, dynamic: dict[str, tuple[int, ...]]) -> Graph:
    """The int8 IR of a quantized ModelProto (``dynamic``: the input axes the file left open)."""
    if any(is_qoperator(n) for n in model.graph.node):
        model = qoperator_to_qdq(model, where)
    stripped = strip_qdq(model, where)
    float_model, _ = load_model(stripped.model.SerializeToString(), where)
    graph = to_int8(lower_model(float_model, where, dynamic).graph, stripped, where)
    graph.description = graph.description.replace("from ONNX", "from quantized ONNX")
    return graph
