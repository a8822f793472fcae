"""The shared state of one lowering: ONNX values (constants or IR tensors with a layout), the
graph being built, and the helpers every converter uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge.errors import ModelError, UnsupportedOpError
from microforge.frontends.onnx.layout import Perm, between, identity, permute
from microforge.ir import Operator
from microforge.ir.builder import GraphBuilder


def node_name(node: Any) -> str:
    """A node's name for messages: its own, or its first output's when it has none."""
    return node.name or (node.output[0] if node.output else "?")


@dataclass
class Value:
    """An ONNX value: a constant (``data``, ONNX layout) or the IR tensor ``index`` holding it
    laid out by ``perm`` (``ir = onnx.transpose(perm)``). ``shape`` is the ONNX shape."""

    shape: tuple[int, ...]
    data: np.ndarray | None = None
    index: int = -1
    perm: Perm = ()


class Context:
    """Lowering state. ``values`` maps ONNX value names to :class:`Value`; ``shapes`` holds the
    static shapes shape inference found; ``builder`` accumulates the IR."""

    def __init__(self, where: str, shapes: dict[str, tuple[int, ...]], opset: int) -> None:
        self.where = where
        self.shapes = shapes
        self.opset = opset
        self.builder = GraphBuilder()
        self.values: dict[str, Value] = {}
        self._views: dict[tuple[int, Perm], int] = {}
        self._consts: dict[tuple[str, Perm], int] = {}
        self.node: Any = None  # the node being lowered, for messages
        self.uses: dict[str, int] = {}  # ONNX value name -> consumers (+1 if a graph output)
        self.producer: dict[int, int] = {}  # IR tensor index -> index of the operator writing it

    # -- errors ---------------------------------------------------------------------------------
    def unsupported(self, what: str) -> UnsupportedOpError:
        """One line naming the node: ``<file>: ONNX node 'n' (Op): <what>``."""
        n = self.node
        return UnsupportedOpError(f"{self.where}: ONNX node '{node_name(n)}' ({n.op_type}): {what}")

    def error(self, what: str) -> ModelError:
        n = self.node
        return ModelError(f"{self.where}: ONNX node '{node_name(n)}' ({n.op_type}): {what}")

    # -- reading values -------------------------------------------------------------------------
    def value(self, name: str) -> Value:
        if name not in self.values:
            raise self.error(f"input '{name}' is not defined before this node")
        return self.values[name]

    def const(self, name: str) -> np.ndarray | None:
        """The constant value of ``name`` (None when absent or computed at run time)."""
        if not name:
            return None
        return self.value(name).data

    def need_const(self, name: str, what: str) -> np.ndarray:
        data = self.const(name)
        if data is None:
            raise self.unsupported(f"{what} must be a constant")
        return data

    def shape(self, name: str) -> tuple[int, ...]:
        if name in self.values:
            return self.values[name].shape
        if name not in self.shapes:
            raise self.unsupported(f"the shape of '{name}' is not static")
        return self.shapes[name]

    def tensor(self, name: str, perm: Perm | None = None) -> int:
        """The IR tensor holding ``name`` laid out by ``perm`` (default: the ONNX layout); a
        constant becomes a constant tensor, an activation in another layout gets a TRANSPOSE
        (made once per layout)."""
        v = self.value(name)
        perm = identity(len(v.shape)) if perm is None else tuple(perm)
        if v.data is not None:
            if (name, perm) not in self._consts:
                data = np.asarray(v.data)
                data = data.astype(np.float32) if data.dtype == np.float64 else data
                label = name if perm == identity(len(perm)) else f"{name}/transposed"
                self._consts[name, perm] = self.builder.const(label, data.transpose(perm))
            return self._consts[name, perm]
        if v.perm == perm:
            return v.index
        key = (v.index, perm)
        if key not in self._views:
            r = between(v.perm, perm)
            out = self.temp(f"{name}/transposed", permute(v.shape, perm))
            self.op("TRANSPOSE", [v.index, self.int32(f"{name}/perm", r)], [out])
            self._views[key] = out
        return self._views[key]

    # -- making values --------------------------------------------------------------------------
    def define(self, name: str, shape: tuple[int, ...], perm: Perm | None = None,
               dtype: Any = np.float32) -> int:
        """A new IR tensor for ONNX value ``name`` (named like it) laid out by ``perm``."""
        shape = tuple(int(d) for d in shape)
        if 0 in shape:
            raise self.unsupported(f"an empty tensor '{name}' {shape} (TFLM has no empty tensors)")
        perm = identity(len(shape)) if perm is None else tuple(perm)
        index = self.builder.tensor(name, permute(shape, perm), dtype)
        self.values[name] = Value(shape, index=index, perm=perm)
        return index

    def alias(self, name: str, source: str) -> None:
        """``name`` is the same value as ``source`` (Identity, Dropout)."""
        self.values[name] = self.value(source)

    def set_const(self, name: str, data: np.ndarray) -> None:
        data = np.asarray(data)
        self.values[name] = Value(tuple(data.shape), data=data)

    def temp(self, name: str, ir_shape: tuple[int, ...], dtype: Any = np.float32) -> int:
        """An intermediate IR tensor no ONNX value names."""
        return self.builder.tensor(name, tuple(int(d) for d in ir_shape), dtype)

    def int32(self, name: str, values) -> int:
        return self.builder.const(name, np.asarray(values, np.int32))

    def float32(self, name: str, values) -> int:
        return self.builder.const(name, np.asarray(values, np.float32))

    def op(self, opcode: str, inputs: list[int], outputs: list[int], **options: Any) -> int:
        index = self.builder.op(opcode, inputs, outputs, **options)
        for out in outputs:
            self.producer[out] = index
        return index

    def absorb(self, source: str, name: str, accept: Callable[[Operator], bool]) -> Operator | None:
        """When ``source`` is an activation read only by the current node and written by an
        operator ``accept`` takes, make ``name`` that same tensor and return the operator so
        the caller can fold itself into it (batch norm into weights, a ReLU into the fused
        activation); otherwise None."""
        v = self.value(source)
        op_index = self.producer.get(v.index) if v.data is None else None
        if op_index is None or self.uses.get(source, 0) != 1:
            return None
        op = self.builder.operators[op_index]
        if not accept(op):
            return None
        self.values[name] = v
        self.builder.tensors[v.index].name = name
        return op

    # -- node helpers ---------------------------------------------------------------------------
    def out_shape(self, k: int = 0) -> tuple[int, ...]:
        return self.shape(self.node.output[k])

    def ir_shape(self, index: int) -> tuple[int, ...]:
        return self.builder.tensors[index].shape
