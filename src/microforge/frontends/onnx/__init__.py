"""ONNX frontend: float ONNX models (opsets 13 and later) lowered to the channels-last IR that TFLM
runs. ``parse_onnx`` is the ``FORMATS`` reader; :func:`lower_onnx` also returns, per ONNX value
name, the IR tensor and layout it became (for post-steps such as reading QDQ scales).

Needs the optional ``onnx`` package (imported only when an ONNX file is read).
"""

from __future__ import annotations

from microforge.frontends.onnx.load import load_model, sniff_onnx
from microforge.frontends.onnx.lower import Lowered, lower_model
from microforge.frontends.onnx.quantized import is_quantized, lower_quantized
from microforge.ir import Graph


def lower_onnx(data: bytes, where: str = "<bytes>") -> Lowered:
    """Read ONNX bytes and lower them: the graph plus the ONNX value -> (tensor, perm) map."""
    model, dynamic = load_model(data, where)
    return lower_model(model, where, dynamic)


def parse_onnx(data: bytes, where: str = "<bytes>") -> Graph:
    """The IR of an ONNX model (``graph.source`` records the input/output layouts); a quantized
    one (QDQ or QOperator) becomes an int8 graph (:mod:`.quantized`)."""
    model, dynamic = load_model(data, where)
    if is_quantized(model):
        return lower_quantized(model, where, dynamic)
    return lower_model(model, where, dynamic).graph


__all__ = ["Lowered", "lower_onnx", "parse_onnx", "sniff_onnx"]
