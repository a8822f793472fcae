"""Keras activations (the ``activation=`` of a layer, and the Activation / ReLU / LeakyReLU /
Softmax layers) as the TFLite operators the converter emits for them.

``hard_sigmoid`` changed between versions: Keras 3 computes ``relu6(x + 3) / 6`` (ADD with a fused
RELU6, MUL), Keras 2 ``clip(0.2 x + 0.5, 0, 1)`` (MUL, ADD with a fused RELU, MINIMUM).
"""

from __future__ import annotations

from typing import Any

from microforge.frontends.keras.lowering import Layer, Lowering
from microforge.ir import Activation


def activation_name(value: Any) -> str:
    """A config's activation: a name, or (Keras 3) a serialized function object."""
    if value is None:
        return "linear"
    if isinstance(value, dict):
        value = value.get("config", value.get("class_name", ""))
        if isinstance(value, dict):
            value = value.get("name", "")
    return str(value)


def _hard_sigmoid(lw: Lowering, x: int, name: str) -> int:
    if lw.keras3:
        y = lw.scalar("ADD", x, 3.0, f"{name}/plus3")
        lw.fuse(y, Activation.RELU6, True)
        return lw.scalar("MUL", y, 1 / 6, name)
    y = lw.scalar("ADD", lw.scalar("MUL", x, 0.2, f"{name}/times0.2"), 0.5, f"{name}/plus0.5")
    lw.fuse(y, Activation.RELU, True)
    return lw.scalar("MINIMUM", y, 1.0, name)


def _swish(lw: Lowering, x: int, name: str) -> int:
    return lw.binary("MUL", x, lw.unary("LOGISTIC", x, f"{name}/sigmoid"), name)


_UNARY = {"sigmoid": "LOGISTIC", "tanh": "TANH", "hard_swish": "HARD_SWISH", "hard_silu": "HARD_SWISH"}
SUPPORTED = ("linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "hard_sigmoid", "hard_swish",
             "hard_silu", "swish", "silu", "leaky_relu")


def activate(lw: Lowering, layer: Layer, x: int, name: str, tensor: str, sole: bool = True) -> int:
    """Apply the activation ``name`` to ``x`` (fused into ``x``'s producer when it can be); a new
    output tensor is called ``tensor``."""
    if name in ("linear", "identity"):
        return x
    if name in ("relu", "relu6"):
        return lw.clamp(x, Activation.RELU if name == "relu" else Activation.RELU6, tensor, sole)
    if name in _UNARY:
        return lw.unary(_UNARY[name], x, tensor)
    if name == "softmax":
        return lw.unary("SOFTMAX", x, tensor, beta=1.0)
    if name == "hard_sigmoid":
        return _hard_sigmoid(lw, x, tensor)
    if name in ("swish", "silu"):
        return _swish(lw, x, tensor)
    if name == "leaky_relu":
        return lw.unary("LEAKY_RELU", x, tensor, alpha=0.2)
    raise layer.unsupported(f"activation {name!r} (supported: {', '.join(SUPPORTED)})")


def activate_layer(lw: Lowering, layer: Layer, y: int) -> int:
    """The layer's own ``activation=`` on its result ``y``; a separate activation operator's output
    takes the layer's name (``y`` becomes ``<name>/linear``)."""
    out = activate(lw, layer, y, activation_name(layer.get("activation")), f"{layer.name}/act")
    if out != y:
        tensors = lw.b.tensors
        if tensors[y].name == layer.name:
            tensors[y].name = f"{layer.name}/linear"
        tensors[out].name = layer.name
    return out


def lower_activation(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    name = activation_name(layer.get("activation"))
    return [activate(lw, layer, xs[0], name, layer.name, layer.sole_input)]


def lower_relu(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    """ReLU(max_value, negative_slope, threshold): RELU / RELU6 / LEAKY_RELU, then MINIMUM for
    another ``max_value`` (as the converter does)."""
    x = xs[0]
    top = layer.get("max_value")
    slope = float(layer.get("negative_slope", 0.0))
    if float(layer.get("threshold", 0.0)) != 0.0:
        raise layer.unsupported("a nonzero threshold")
    if slope == 0.0 and top is not None and float(top) == 6.0:
        return [lw.clamp(x, Activation.RELU6, layer.name, layer.sole_input)]
    last = slope == 0.0 and top is None
    name = layer.name if last else f"{layer.name}/relu"
    if slope == 0.0:
        y = lw.clamp(x, Activation.RELU, name, layer.sole_input)
    else:
        y = lw.unary("LEAKY_RELU", x, name, alpha=slope)
    return [y] if top is None else [lw.scalar("MINIMUM", y, float(top), layer.name)]


def lower_leaky_relu(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    slope = layer.get("negative_slope", layer.get("alpha", 0.3))
    return [lw.unary("LEAKY_RELU", xs[0], layer.name, alpha=float(slope))]


def lower_softmax(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    axis = layer.get("axis", -1)
    rank = len(lw.shape(xs[0]))
    if axis not in (-1, rank - 1, [-1], [rank - 1]):
        raise layer.unsupported(f"softmax over axis {axis} (only the last axis)")
    return [lw.unary("SOFTMAX", xs[0], layer.name, beta=1.0)]
