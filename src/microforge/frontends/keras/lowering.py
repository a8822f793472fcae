"""The state shared by the layer lowerings: the graph being built, which operator made each
tensor, and the two rewrites the TFLite converter applies to Keras layers:

* an activation (``activation="relu"``, a ReLU or Activation layer) goes into the fused-activation
  slot of the operator that made its input when it can (RELU / RELU6, the input read only there);
* a BatchNormalization right after a convolution or dense layer without activation is folded into
  that layer's weights and bias (``w * gamma / sqrt(var + eps)``, ``(b - mean) * scale + beta``);
  elsewhere it is a MUL and an ADD by per-channel constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microforge.errors import UnsupportedOpError
from microforge.ir import Activation, op_def
from microforge.ir.builder import GraphBuilder

F32 = np.float32


@dataclass
class Layer:
    """One layer call being lowered: its name and class, config, weights (in Keras order) and
    whether its (first) input tensor is read by this call only (so it may be rewritten)."""

    name: str
    cls: str
    config: dict[str, Any]
    weights: list[np.ndarray]
    sole_input: bool

    def unsupported(self, what: str) -> UnsupportedOpError:
        return UnsupportedOpError(f"layer {self.cls} {self.name!r}: {what} is not supported")

    def get(self, key: str, default: Any = None) -> Any:
        value = self.config.get(key, default)
        return default if value is None else value


@dataclass
class Lowering:
    """The graph under construction. ``core[t]`` is the operator whose output channels are the
    last axis of tensor ``t`` and whose fused activation applies to it (the layer's convolution or
    dense, possibly followed by a reshape), with whether a batch norm may fold into it."""

    keras_version: str
    dynamic_batch: bool
    b: GraphBuilder = field(default_factory=GraphBuilder)
    core: dict[int, tuple[int, bool]] = field(default_factory=dict)

    @property
    def keras3(self) -> bool:
        return not self.keras_version.startswith(("1", "2"))

    def shape(self, t: int) -> tuple[int, ...]:
        return self.b.tensors[t].shape

    def value(self, name: str, shape: tuple[int, ...]) -> int:
        """A new float32 activation tensor (batch axis first, -1 in its signature when dynamic)."""
        t = self.b.tensor(name, shape, F32)
        if self.dynamic_batch and shape:
            self.b.tensors[t].shape_signature = (-1,) + tuple(shape[1:])
        return t

    def const(self, name: str, data: Any, dtype: Any = F32) -> int:
        return self.b.const(name, np.asarray(data, dtype=dtype))

    def ints(self, name: str, values: Any) -> int:
        return self.const(name, values, np.int32)

    def op(self, opcode: str, inputs: list[int], outputs: list[int], **options: Any) -> int:
        return self.b.op(opcode, inputs, outputs, **options)

    def unary(self, opcode: str, x: int, name: str, **options: Any) -> int:
        y = self.value(name, self.shape(x))
        self.op(opcode, [x], [y], **options)
        return y

    def binary(self, opcode: str, x: int, y: int, name: str) -> int:
        shape = np.broadcast_shapes(self.shape(x), self.shape(y))
        out = self.value(name, tuple(shape))
        if op_def(opcode).fused_activation:
            index = self.op(opcode, [x, y], [out], fused_activation_function=Activation.NONE)
            self.core[out] = (index, False)
        else:
            self.op(opcode, [x, y], [out])
        return out

    def scalar(self, opcode: str, x: int, value: float, name: str) -> int:
        return self.binary(opcode, x, self.const(f"{name}/{opcode.lower()}_value", value), name)

    def fuse(self, x: int, activation: Activation, sole: bool) -> bool:
        """Put ``activation`` into the fused slot of the operator that made ``x``, if it has a free
        one and ``x`` is read nowhere else."""
        if not sole or x not in self.core or x in self.b.outputs:
            return False
        op = self.b.operators[self.core[x][0]]
        row = op_def(op.opcode)
        if row is None or not row.fused_activation:
            return False
        if op.options.get("fused_activation_function", Activation.NONE) != Activation.NONE:
            return False
        op.options["fused_activation_function"] = activation
        self.core[x] = (self.core[x][0], False)
        return True

    def clamp(self, x: int, activation: Activation, name: str, sole: bool) -> int:
        """RELU / RELU6 on ``x``: fused into its producer, else its own operator."""
        if self.fuse(x, activation, sole):
            return x
        return self.unary("RELU" if activation == Activation.RELU else "RELU6", x, name)

    def fold_scale_shift(self, x: int, scale: np.ndarray, shift: np.ndarray, sole: bool) -> bool:
        """Fold ``x * scale + shift`` (per last-axis channel) into the layer that made ``x``."""
        if not sole or x not in self.core or not self.core[x][1] or x in self.b.outputs:
            return False
        op = self.b.operators[self.core[x][0]]
        if op.options.get("fused_activation_function", Activation.NONE) != Activation.NONE:
            return False
        axis = op_def(op.opcode).weight_axis
        w, bias = self.b.tensors[op.inputs[1]], self.b.tensors[op.inputs[2]]
        shape = [1] * w.data.ndim
        shape[axis] = -1
        w.data = _frozen(w.data * scale.reshape(shape))
        bias.data = _frozen(bias.data * scale + shift)
        return True


def _frozen(data: np.ndarray) -> np.ndarray:
    data = np.ascontiguousarray(data, dtype=F32)
    data.flags.writeable = False
    return data
