"""The shape of one row of the operator table: :class:`OpDef`, with its quantization rule and the
simple output-shape rules rows share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

import numpy as np

from microforge.ir.graph import Operator, Subgraph
from microforge.ir.ops.enums import Activation, Role

Rule = Callable[[Operator, Subgraph], Any]


@dataclass(frozen=True)
class QuantRule:
    """What TFLM requires of the operator quantized (:mod:`microforge.quantize.rules` explains
    each ``kind``). ``int16``: TFLM has the 16x8 variant. ``multi``: with ``same``, every input
    shares the output's parameters. ``per_channel``: with ``weighted``, the weights may be quantized
    per channel along the row's ``weight_axis`` (False: always per tensor). ``fixed8`` /
    ``fixed16``: the (scale, zero point) TFLM fixes on the output of a ``fixed`` operator with
    int8 / int16 activations."""

    kind: Literal["weighted", "free", "same", "fixed", "lstm"]
    int16: bool = True
    multi: bool = False
    per_channel: bool = True
    fixed8: tuple[float, int] | None = None
    fixed16: tuple[float, int] | None = None


@dataclass(frozen=True)
class OpDef:
    """Everything the layers above the IR know about one operator.

    * ``inputs``: the :class:`Role` of each input position; with ``variadic`` the last one repeats.
    * ``options``: option field -> IR enum, for the enum-valued fields (:meth:`named` decodes them).
    * ``fused_activation``: the operator has an activation slot that activation fusion may fill.
    * ``as_activation``: a standalone activation operator equal to this fused activation.
    * ``weight_axis``: the per-channel quantization axis of the weights (input 1).
    * ``mac_count``: multiply-accumulates of one invoke (:meth:`macs`; 0 without one).
    * ``shape``: output 0's shape from the inputs' shapes, where the rule is simple.
    * ``quant``: the quantization rule; None = the quantizer cannot quantize the operator.
    * ``no_runtime`` / ``no_c``: why the numpy runtime / the C backend has no kernel for it (None:
      it has one). Every row runs in both unless it says why not.
    """

    name: str
    inputs: tuple[Role, ...] = (Role.DATA,)
    variadic: bool = False
    options: Mapping[str, type[IntEnum]] = field(default_factory=dict)
    fused_activation: bool = False
    as_activation: Activation | None = None
    weight_axis: int | None = None
    mac_count: Rule | None = None
    shape: Rule | None = None
    quant: QuantRule | None = None
    no_runtime: str | None = None
    no_c: str | None = None

    @property
    def c_supported(self) -> bool:
        return self.no_runtime is None and self.no_c is None

    def role(self, position: int) -> Role | None:
        """The role of input ``position`` (None past the operator's inputs)."""
        if position < len(self.inputs):
            return self.inputs[position]
        return self.inputs[-1] if self.variadic and self.inputs else None

    def macs(self, op: Operator, subgraph: Subgraph) -> int:
        """Multiply-accumulates of one invoke of ``op`` (0 for operators without a MAC count)."""
        return 0 if self.mac_count is None else int(self.mac_count(op, subgraph))

    def named(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` with each enum-valued field as its IR enum member; values no member has
        (a corrupt or newer file) stay integers for the kernel to refuse."""
        out = dict(options)
        for key, enum in self.options.items():
            value = out.get(key)
            if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                try:
                    out[key] = enum(int(value))
                except ValueError:
                    pass
        return out


def same_shape(op: Operator, sg: Subgraph) -> tuple[int, ...]:
    """Elementwise unary operators: the output has the input's shape."""
    return sg.tensors[op.inputs[0]].shape


def broadcast_shape(op: Operator, sg: Subgraph) -> tuple[int, ...]:
    """Elementwise binary operators: numpy (and TFLite) broadcasting of the two inputs."""
    return tuple(np.broadcast_shapes(*(sg.tensors[i].shape for i in op.inputs[:2])))
