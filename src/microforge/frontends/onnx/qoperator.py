"""Quantized ONNX in QOperator form -> the same model in QDQ form.

Each ``QLinear*`` node (and ``QGemm``) becomes ``DequantizeLinear`` of its integer inputs, the
float operator, and ``QuantizeLinear`` of its output with the node's output parameters; a node
that ``quantize_static(QuantFormat.QOperator)`` runs directly on integers (MaxPool, Reshape, ...:
the output shares the input's parameters) is wrapped the same way. Both quantized formats then go
one way (:mod:`.qdq`). The rewrite is exact: it states the same arithmetic in float form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from microforge.errors import UnsupportedOpError
from microforge.frontends.onnx.qdq import constants

MS = "com.microsoft"
# Operators quantize_static leaves running on integers, output quantized like input 0.
DIRECT = ("MaxPool", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Resize", "Slice",
          "Pad", "Identity", "Gather", "Split", "GlobalMaxPool")


class _Rewriter:
    def __init__(self, model: Any, where: str) -> None:
        self.graph, self.where = model.graph, where
        self.consts = constants(self.graph)
        g = self.graph
        self.used = ({v.name for v in g.input} | {v.name for v in g.output}
                     | {t.name for t in g.initializer}
                     | {n for node in g.node for n in list(node.input) + list(node.output)})
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.params_of: dict[str, tuple[str, str]] = {}  # integer value -> (scale, zero point)

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def const(self, base: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def add(self, op_type: str, inputs: list[str], outputs: list[str], name: str = "",
            attrs: list | None = None, **kwargs: Any) -> None:
        from onnx import helper

        node = helper.make_node(op_type, inputs, outputs, name=name, **kwargs)
        node.attribute.extend(attrs or [])
        self.nodes.append(node)

    def dq(self, value: str, scale: str, zero_point: str, axis: int = 1) -> str:
        out = self.fresh(f"{value}_dequantized")
        self.add("DequantizeLinear", [value, scale, zero_point], [out], axis=axis)
        return out

    def float_name(self, quantized: str) -> str:
        """The float value a QOperator output stands for: ORT's float name (``x`` for
        ``x_quantized``) when free, else ``<name>_float``."""
        base = quantized[: -len("_quantized")] if quantized.endswith("_quantized") else ""
        return self.fresh(base if base and base not in self.used else f"{quantized}_float")

    def q(self, value: str, scale: str, zero_point: str, out: str) -> None:
        self.add("QuantizeLinear", [value, scale, zero_point], [out])
        self.params_of[out] = (scale, zero_point)

    def bias(self, bias: str, x_scale: str, w_scale: str, factor: float = 1.0) -> str:
        """DequantizeLinear of an int32 bias with scale ``factor * x_scale * w_scale``."""
        scale = (np.float32(factor) * self.consts[x_scale] * self.consts[w_scale]).astype(np.float32)
        s = self.const(f"{bias}_scale", scale)
        zp = self.const(f"{bias}_zero_point", np.zeros(scale.shape, np.int32))
        return self.dq(bias, s, zp, axis=0)

    def float_op(self, node: Any, op_type: str, inputs: list[str], y: str, y_scale: str,
                 y_zp: str, drop: tuple[str, ...] = ()) -> None:
        yf = self.float_name(y)
        attrs = [a for a in node.attribute if a.name not in drop]
        self.add(op_type, inputs, [yf], name=node.name, attrs=attrs)
        self.q(yf, y_scale, y_zp, y)


def _conv(rw: _Rewriter, node: Any) -> None:
    x, xs, xz, w, ws, wz, ys, yz, *rest = list(node.input) + [""]
    inputs = [rw.dq(x, xs, xz), rw.dq(w, ws, wz, axis=0)]
    if rest[0]:
        inputs.append(rw.bias(rest[0], xs, ws))
    rw.float_op(node, "Conv", inputs, node.output[0], ys, yz)


def _matmul(rw: _Rewriter, node: Any) -> None:
    a, as_, az, b, bs, bz, ys, yz = node.input
    rw.float_op(node, "MatMul", [rw.dq(a, as_, az), rw.dq(b, bs, bz, axis=1)], node.output[0],
                ys, yz)


def _gemm(rw: _Rewriter, node: Any) -> None:
    from onnx import helper

    a, as_, az, b, bs, bz, *rest = list(node.input) + ["", "", ""]
    attrs = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    inputs = [rw.dq(a, as_, az), rw.dq(b, bs, bz, axis=0 if attrs.get("transB", 0) else 1)]
    if rest[0]:
        inputs.append(rw.bias(rest[0], as_, bs, float(attrs.get("alpha", 1.0))))
    if not rest[1]:  # no output scale: QGemm's output is float
        rw.add("Gemm", inputs, list(node.output), name=node.name, attrs=list(node.attribute))
        return
    rw.float_op(node, "Gemm", inputs, node.output[0], rest[1], rest[2])


def _unary(op_type: str, drop: tuple[str, ...] = ()) -> Callable[[_Rewriter, Any], None]:
    def rewrite(rw: _Rewriter, node: Any) -> None:
        x, xs, xz, ys, yz = node.input
        rw.float_op(node, op_type, [rw.dq(x, xs, xz)], node.output[0], ys, yz, drop)
    return rewrite


def _binary(op_type: str) -> Callable[[_Rewriter, Any], None]:
    def rewrite(rw: _Rewriter, node: Any) -> None:
        a, as_, az, b, bs, bz, ys, yz = node.input
        rw.float_op(node, op_type, [rw.dq(a, as_, az), rw.dq(b, bs, bz)], node.output[0], ys, yz)
    return rewrite


def _concat(rw: _Rewriter, node: Any) -> None:
    ys, yz, *xs = node.input
    inputs = [rw.dq(*xs[k:k + 3]) for k in range(0, len(xs), 3)]
    rw.float_op(node, "Concat", inputs, node.output[0], ys, yz)


def _pool(op_type: str) -> Callable[[_Rewriter, Any], None]:
    unary = _unary(op_type, drop=("channels_last",))

    def rewrite(rw: _Rewriter, node: Any) -> None:
        if any(a.name == "channels_last" and a.i for a in node.attribute):
            raise UnsupportedOpError(f"{rw.where}: ONNX node {node.name!r} ({node.op_type}) with "
                                     "channels_last=1 is not supported")
        unary(rw, node)
    return rewrite


REWRITES: dict[tuple[str, str], Callable[[_Rewriter, Any], None]] = {
    ("", "QLinearConv"): _conv,
    ("", "QLinearMatMul"): _matmul,
    (MS, "QGemm"): _gemm,
    (MS, "QLinearAdd"): _binary("Add"),
    (MS, "QLinearMul"): _binary("Mul"),
    (MS, "QLinearSigmoid"): _unary("Sigmoid"),
    (MS, "QLinearLeakyRelu"): _unary("LeakyRelu"),
    (MS, "QLinearSoftmax"): _unary("Softmax", drop=("opset",)),
    (MS, "QLinearConcat"): _concat,
    (MS, "QLinearAveragePool"): _pool("AveragePool"),
    (MS, "QLinearGlobalAveragePool"): _pool("GlobalAveragePool"),
}
SUPPORTED = sorted(op for _, op in REWRITES)


def _direct(rw: _Rewriter, node: Any) -> None:
    """An operator running on integers: dequantize input 0, run it in float, quantize each output
    with input 0's parameters (Pad's constant value is dequantized with them too)."""
    scale, zp = rw.params_of[node.input[0]]
    inputs = [rw.dq(node.input[0], scale, zp)] + list(node.input[1:])
    if node.op_type == "Pad" and len(inputs) > 2 and inputs[2]:
        inputs[2] = rw.dq(inputs[2], scale, zp)
    outs = [rw.float_name(o) for o in node.output]
    rw.add(node.op_type, inputs, outs, name=node.name, attrs=list(node.attribute))
    for f, o in zip(outs, node.output):
        rw.q(f, scale, zp, o)


def is_qoperator(node: Any) -> bool:
    """A node of the QOperator format (or one of its relatives microforge does not take)."""
    return (node.domain, node.op_type) in REWRITES or node.op_type.startswith("QLinear") or (
        node.domain == MS and node.op_type.startswith("Q")) or node.op_type in (
        "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear")


def qoperator_to_qdq(model: Any, where: str) -> Any:
    """A copy of ``model`` with every QOperator node rewritten to DQ -> float op -> Q."""
    from onnx import ModelProto

    rw = _Rewriter(model, where)
    for node in rw.graph.node:
        key = (node.domain if node.domain != "ai.onnx" else "", node.op_type)
        if key in REWRITES:
            REWRITES[key](rw, node)
        elif is_qoperator(node):
            raise UnsupportedOpError(
                f"{where}: ONNX node {node.name!r} ({node.op_type}) is not supported; quantized "
                f"operators supported: {', '.join(SUPPORTED)}, QuantizeLinear, DequantizeLinear")
        elif node.op_type == "QuantizeLinear":
            rw.nodes.append(node)
            rw.params_of[node.output[0]] = (node.input[1], node.input[2] if len(node.input) > 2
                                            else "")
        elif node.input and node.input[0] in rw.params_of and node.op_type in DIRECT:
            _direct(rw, node)
        elif node.op_type != "DequantizeLinear" and any(n in rw.params_of for n in node.input):
            raise UnsupportedOpError(
                f"{where}: ONNX node {node.name!r} ({node.op_type}) runs on quantized values; "
                f"supported on quantized values: {', '.join(DIRECT)} (input 0)")
        else:
            rw.nodes.append(node)
    out = ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(rw.nodes)
    out.graph.initializer.extend(rw.inits)
    return out
