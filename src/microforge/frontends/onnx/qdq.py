"""Quantized ONNX in QDQ form -> a float ONNX model plus the file's quantization of each value.

``QuantizeLinear`` / ``DequantizeLinear`` pairs (as ``onnxruntime.quantization.quantize_static``
writes them with ``QuantFormat.QDQ``) are removed: the float value a pair stands for keeps its
name and gets the pair's parameters in :attr:`Stripped.quant`. A ``DequantizeLinear`` of an
integer constant (weights, biases, quantized constant operands) becomes a float initializer named
like its output, whose exact integer values stay in the annotation. The float model that remains
is lowered like any float ONNX model; :mod:`.to_int8` then makes the IR integer with these
parameters. ``onnx`` is imported by the caller (the ONNX reader) before these functions run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microforge.errors import UnsupportedOpError

INTEGER_TYPES = (np.int8, np.uint8, np.int32)


@dataclass(frozen=True, eq=False)
class FileQuant:
    """The quantization a QDQ file gives one value: ``real = scale * (q - zero_point)``, per
    tensor (``axis`` None) or along ``axis`` of the ONNX value; ``dtype`` is the integer type
    (int8, uint8, int32 for biases); ``values`` the integers of a constant (None otherwise)."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None
    dtype: np.dtype
    values: np.ndarray | None = None

    def same_params(self, other: FileQuant) -> bool:
        return (self.axis == other.axis and self.dtype == other.dtype
                and np.array_equal(self.scale, other.scale)
                and np.array_equal(self.zero_point, other.zero_point))


@dataclass
class Stripped:
    """The float model left after removing the Q/DQ nodes, and the file's quantization of each
    remaining value (ONNX value name -> :class:`FileQuant`)."""

    model: Any
    quant: dict[str, FileQuant] = field(default_factory=dict)
    layers: dict[str, tuple[str, str]] = field(default_factory=dict)


def constants(graph: Any) -> dict[str, np.ndarray]:
    """The graph's initializers and ``Constant`` node outputs by value name."""
    from onnx import helper, numpy_helper

    out = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and node.attribute:
            attr = node.attribute[0]
            value = helper.get_attribute_value(attr)
            out[node.output[0]] = (numpy_helper.to_array(value) if attr.name == "value"
                                   else np.asarray(value))
    return out


def is_qdq(node: Any, op_type: str) -> bool:
    return node.op_type == op_type and node.domain in ("", "ai.onnx")


def node_params(node: Any, consts: dict[str, np.ndarray], where: str) -> FileQuant:
    """The scale, zero point, axis and integer type of a QuantizeLinear / DequantizeLinear."""
    from onnx import helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    what = f"{where}: ONNX node {node.name!r} ({node.op_type})"
    if attrs.get("block_size", 0):
        raise UnsupportedOpError(f"{what}: blocked quantization is not supported; use per-tensor "
                                 "or per-axis quantization")
    names = list(node.input) + [""] * 3
    if names[1] not in consts or (names[2] and names[2] not in consts):
        raise UnsupportedOpError(f"{what}: scale and zero point must be constants")
    scale = np.asarray(consts[names[1]], np.float32)
    zp = consts[names[2]] if names[2] else np.zeros(scale.shape, np.uint8)
    dtype = zp.dtype
    if dtype.type not in INTEGER_TYPES:
        raise UnsupportedOpError(f"{what}: {dtype.name} quantization is not supported; TFLM runs "
                                 "int8 (and uint8, shifted to int8) with int32 biases")
    axis = int(attrs.get("axis", 1)) if scale.size > 1 else None
    return FileQuant(scale.reshape(-1), np.asarray(zp, np.int64).reshape(-1), axis, dtype)


def dequantize(values: np.ndarray, q: FileQuant) -> np.ndarray:
    """``(values - zero_point) * scale`` as ONNX DequantizeLinear computes it (float32)."""
    shape = [1] * values.ndim
    if q.axis is not None:
        shape[q.axis] = -1
    zp = q.zero_point.reshape(shape)
    return ((values.astype(np.int64) - zp).astype(np.float32) * q.scale.reshape(shape)).astype(
        np.float32)


def strip_qdq(model: Any, where: str) -> Stripped:
    """Remove the Q/DQ nodes of a QDQ ``model`` (see the module docstring)."""
    from onnx import numpy_helper

    graph = model.graph
    consts = constants(graph)
    graph_inputs = {v.name for v in graph.input}
    graph_outputs = [v.name for v in graph.output]
    quant: dict[str, FileQuant] = {}
    quantized_of: dict[str, tuple[str, FileQuant]] = {}  # Q output -> (float input, params)
    alias: dict[str, str] = {}  # removed value -> the value it equals
    new_inits = []
    kept = []
    for node in graph.node:
        if is_qdq(node, "QuantizeLinear"):
            params = node_params(node, consts, where)
            quantized_of[node.output[0]] = (node.input[0], params)
            _annotate(quant, node.input[0], params, node, where)
        elif is_qdq(node, "DequantizeLinear"):
            params = node_params(node, consts, where)
            src, out = node.input[0], node.output[0]
            if src in quantized_of:
                alias[out] = quantized_of[src][0]
            elif src in consts:
                values = np.asarray(consts[src])
                quant[out] = FileQuant(params.scale, params.zero_point, params.axis,
                                       params.dtype, values)
                new_inits.append(numpy_helper.from_array(dequantize(values, params), out))
            else:
                raise UnsupportedOpError(
                    f"{where}: ONNX node {node.name!r} (DequantizeLinear) reads {src!r}, which is "
                    "neither a constant nor the output of a QuantizeLinear")
        else:
            kept.append(node)
    _check_q_uses(kept, quantized_of, where)
    rename = {}
    for out in graph_outputs:
        if out in quantized_of:  # an integer graph output: the float value it quantizes
            alias[out] = quantized_of[out][0]
            quant.setdefault(out, quantized_of[out][1])
        target = _resolve(alias, out)
        if target != out and target not in graph_inputs:
            rename[target] = out
    stripped = _rebuild(model, kept, new_inits, alias, rename, quant)
    return Stripped(stripped, quant, _layers(stripped.graph))


# ONNX layers whose input 1 is a weight and input 2 a bias.
WEIGHTED = ("Conv", "Gemm", "MatMul")


def _layers(graph: Any) -> dict[str, tuple[str, str]]:
    """Output value name -> (weight value, bias value) of each Conv / Gemm / MatMul node (the IR
    names a layer's weight tensors after the layer's output)."""
    return {node.output[0]: (node.input[1], node.input[2] if len(node.input) > 2 else "")
            for node in graph.node if node.domain in ("", "ai.onnx") and node.op_type in WEIGHTED}


def _annotate(quant: dict[str, FileQuant], name: str, params: FileQuant, node: Any,
              where: str) -> None:
    old = quant.get(name)
    if old is not None and not old.same_params(params):
        raise UnsupportedOpError(f"{where}: ONNX value {name!r} is quantized twice with different "
                                 f"parameters (node {node.name!r}); requantize it once")
    quant[name] = params


def _check_q_uses(kept: list, quantized_of: dict, where: str) -> None:
    for node in kept:
        for name in node.input:
            if name in quantized_of:
                raise UnsupportedOpError(
                    f"{where}: ONNX node {node.name!r} ({node.op_type}) reads the integer value "
                    f"{name!r}; only DequantizeLinear may read a QuantizeLinear output")


def _resolve(alias: dict[str, str], name: str) -> str:
    while name in alias:
        name = alias[name]
    return name


def _rebuild(model: Any, kept: list, new_inits: list, alias: dict[str, str],
             rename: dict[str, str], quant: dict[str, FileQuant]) -> Any:
    """A copy of ``model`` with only the ``kept`` nodes, every value read through ``alias`` and
    ``rename``, the new float initializers, and no initializer or Constant left unused."""
    from onnx import ModelProto

    def final(name: str) -> str:
        if not name:
            return name
        name = _resolve(alias, name)
        return rename.get(name, name)

    for old, new in rename.items():
        if old in quant:
            quant[new] = quant.pop(old)
    out = ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    del graph.node[:]
    for node in kept:
        copy = graph.node.add()
        copy.CopyFrom(node)
        copy.input[:] = [final(n) for n in node.input]
        copy.output[:] = [final(n) for n in node.output]
    used = {n for node in graph.node for n in node.input} | {v.name for v in graph.output}
    live = [n for n in graph.node
            if not (is_qdq(n, "Constant") and n.output[0] not in used)]
    del graph.node[:]
    graph.node.extend(live)
    inits = [t for t in list(graph.initializer) + new_inits if t.name in used]
    dropped = {t.name for t in graph.initializer} - {t.name for t in inits}
    del graph.initializer[:]
    graph.initializer.extend(inits)
    inputs = [v for v in graph.input if v.name not in dropped]
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.value_info[:]
    for v in graph.output:
        v.type.tensor_type.elem_type = 1  # FLOAT: the value a DequantizeLinear gave
    return out
