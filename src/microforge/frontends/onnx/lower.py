"""ONNX graph -> IR: constants folded, each node lowered by its converter, layouts tracked.

Graph inputs that feed a convolution or pooling (directly or through elementwise operators) are
laid out channels-last (NCHW -> NHWC, NCL -> NLC); others keep the ONNX layout. Every value keeps
the permutation from its ONNX layout to its IR layout, so Transpose nodes cost nothing and a
TRANSPOSE operator appears only where an operator needs another layout (a Reshape of an NCHW
tensor with spatial size > 1, an axis the IR operator cannot address).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge.errors import MicroforgeError, ModelError, UnsupportedOpError
from microforge.frontends.onnx import (  # noqa: F401
    convert_conv,
    convert_lstm,
    convert_math,
    convert_shape,
)
from microforge.frontends.onnx.context import Context, node_name
from microforge.frontends.onnx.layout import Perm, channels_last, identity
from microforge.frontends.onnx.load import default_opset, first_line, onnx_module, static_shapes
from microforge.frontends.onnx.registry import CONVERTERS
from microforge.ir import Graph, SourceLayout

_SPATIAL = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
            "BatchNormalization", "Resize", "LpPool", "InstanceNormalization"}
_PASS_THROUGH = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
                 "PRelu", "Add", "Sub", "Mul", "Div", "Pad", "Identity", "Dropout", "Cast"}
_NO_FOLD = {"Shape", "Size"}  # handled by their converters (they read shapes, not values)
_FLOATS = (np.float32, np.float64, np.float16)


@dataclass
class Lowered:
    """A lowered model: the graph and, per ONNX value name that is an IR tensor, its index and
    layout (``ir = onnx.transpose(perm)``); constants are absent."""

    graph: Graph
    values: dict[str, tuple[int, Perm]]


def lower_model(model: Any, where: str, dynamic: dict[str, tuple[int, ...]]) -> Lowered:
    """Lower a shape-inferred ModelProto (see :func:`load.load_model`)."""
    onnx = onnx_module()
    from onnx import numpy_helper
    g = model.graph
    ctx = Context(where, static_shapes(model), default_opset(model))
    for init in g.initializer:
        try:
            ctx.set_const(init.name, numpy_helper.to_array(init))
        except Exception as exc:
            raise ModelError(f"{where}: initializer '{init.name}' cannot be read ({exc})") from None
    consumers = _consumers(g)
    ctx.uses = {name: len(nodes) for name, nodes in consumers.items()}
    for out in g.output:
        ctx.uses[out.name] = ctx.uses.get(out.name, 0) + 1
    input_perms = []
    for inp in g.input:
        if inp.name in ctx.values:
            continue
        shape = ctx.shapes.get(inp.name)
        elem = inp.type.tensor_type.elem_type
        if shape is None:
            raise ModelError(f"{where}: input '{inp.name}' has no static rank")
        if 0 in shape:
            raise UnsupportedOpError(f"{where}: input '{inp.name}' has an empty dimension {shape}")
        dtype = onnx.helper.tensor_dtype_to_np_dtype(elem)
        if dtype != np.float32:
            raise UnsupportedOpError(f"{where}: input '{inp.name}' is {dtype}; float32 inputs only")
        perm = channels_last(len(shape)) if _feeds_spatial(inp.name, consumers) else identity(len(shape))
        index = ctx.define(inp.name, shape, perm)
        sig = [d for d in ctx.builder.tensors[index].shape]
        for axis in dynamic.get(inp.name, ()):
            sig[perm.index(axis)] = -1
        if -1 in sig:
            ctx.builder.tensors[index].shape_signature = tuple(sig)
        ctx.builder.inputs.append(index)
        input_perms.append(None if perm == identity(len(perm)) else perm)
    evaluator = _Folder(onnx, model.opset_import, where)
    for node in g.node:
        ctx.node = node
        if node.domain not in ("", "ai.onnx"):
            raise _unsupported(ctx, node, f"domain '{node.domain}'")
        if node.op_type not in _NO_FOLD and all(ctx.const(n) is not None for n in node.input if n):
            for name, value in zip(node.output, evaluator(node, [ctx.const(n) for n in node.input])):
                ctx.set_const(name, value)
            continue
        fn = CONVERTERS.get(node.op_type)
        if fn is None:
            raise _unsupported(ctx, node)
        try:
            fn(ctx, node)
        except MicroforgeError:
            raise
        except Exception as exc:  # a malformed node (missing input or attribute, odd shapes)
            raise ctx.error(f"cannot be lowered ({type(exc).__name__}: {first_line(exc)})") from None
    output_perms = [_output(ctx, out.name) for out in g.output]
    graph = ctx.builder.build()
    graph.description = f"microforge from ONNX ({model.producer_name or 'unknown producer'})"
    graph.source = SourceLayout("ONNX", tuple(input_perms), tuple(output_perms))
    values = {name: (v.index, v.perm) for name, v in ctx.values.items() if v.data is None}
    return Lowered(graph, values)


def _output(ctx: Context, name: str) -> Perm | None:
    v = ctx.values.get(name)
    if v is None or v.data is not None:
        raise ModelError(f"{ctx.where}: output '{name}' is a constant or undefined; nothing to run")
    perm = v.perm if v.perm[:1] == (0,) else identity(len(v.perm))
    index = ctx.tensor(name, perm)
    if index in ctx.builder.outputs or index in ctx.builder.inputs:
        copy = ctx.temp(f"{name}/output", ctx.ir_shape(index))
        ctx.op("RESHAPE", [index, ctx.int32(f"{name}/shape", ctx.ir_shape(index))], [copy])
        index = copy
    ctx.builder.outputs.append(index)
    return None if perm == identity(len(perm)) else perm


def _consumers(g: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for node in g.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def _feeds_spatial(name: str, consumers: dict[str, list[Any]], depth: int = 0) -> bool:
    """The value reaches a convolution or pooling through elementwise operators only."""
    for node in consumers.get(name, []):
        if node.op_type in _SPATIAL:
            return True
        if node.op_type in _PASS_THROUGH and depth < 8 and any(
                _feeds_spatial(o, consumers, depth + 1) for o in node.output):
            return True
    return False


def _unsupported(ctx: Context, node: Any, detail: str = "") -> UnsupportedOpError:
    what = f" from {detail}" if detail else ""
    return UnsupportedOpError(
        f"{ctx.where}: ONNX node '{node_name(node)}' ({node.op_type}{what}) is not supported; "
        f"supported: {', '.join(sorted(CONVERTERS))}")


class _Folder:
    """Evaluates a node whose inputs are all constants with ONNX's reference evaluator."""

    def __init__(self, onnx: Any, opset_import: Any, where: str) -> None:
        self._where = where
        from onnx.reference import ReferenceEvaluator
        self._make = ReferenceEvaluator
        self._onnx = onnx
        self._opsets = list(opset_import)

    def __call__(self, node: Any, inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        feeds = {n: v for n, v in zip(node.input, inputs) if n}
        fn = self._onnx.helper.make_function("microforge", "fold", list(feeds), list(node.output),
                                             [node], self._opsets)
        try:
            results = self._make(fn).run(None, feeds, attributes={})
        except Exception as exc:
            raise ModelError(f"{self._where}: ONNX node '{node_name(node)}' ({node.op_type}): "
                             f"constant folding failed ({first_line(exc)})") from None
        return [np.asarray(r) for r in results]
