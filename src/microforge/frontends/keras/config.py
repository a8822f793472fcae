"""The model config Keras saves, made uniform across Keras 2 (tf_keras) and Keras 3.

Differences handled here:

* ``inbound_nodes``: Keras 2 lists per call ``[[layer, node, tensor, kwargs], ...]``; Keras 3 lists
  ``{"args": [...], "kwargs": {...}}`` with ``__keras_tensor__`` objects whose ``keras_history`` is
  ``[layer, node, tensor]`` (nested in lists for multi-input layers).
* ``input_layers`` / ``output_layers``: Keras 2 always a list of triples; Keras 3 a bare triple for
  a single tensor.
* Input shapes: ``batch_input_shape`` (Keras 2) or ``batch_shape`` (Keras 3) of the InputLayer; a
  ``Sequential`` without InputLayer gives it on its first layer or as ``build_input_shape``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microforge.errors import ModelError, UnsupportedOpError

Key = tuple[str, int, int]  # (layer name, node index, output index): one Keras tensor


@dataclass
class Call:
    """One call of a layer (a node of the Keras graph)."""

    name: str
    cls: str
    config: dict[str, Any]
    inputs: list[Key]
    node: int = 0


@dataclass
class ModelSpec:
    """A Keras model as calls in file order, its input tensors with their batch shapes and its
    output tensors."""

    calls: list[Call]
    inputs: list[tuple[Key, tuple[int | None, ...], str]]  # key, batch shape, dtype
    outputs: list[Key]


def _triples(value: Any) -> list[Key]:
    if value and isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1]), int(v[2])) for v in value]


def _history(arg: Any, out: list[Key]) -> None:
    """Keras 3 call arguments: every ``__keras_tensor__`` in nesting order."""
    if isinstance(arg, dict):
        if arg.get("class_name") == "__keras_tensor__":
            name, node, index = arg["config"]["keras_history"]
            out.append((str(name), int(node), int(index)))
    elif isinstance(arg, (list, tuple)):
        for item in arg:
            _history(item, out)


def _node_inputs(node: Any) -> list[Key]:
    if isinstance(node, dict):  # Keras 3
        found: list[Key] = []
        _history(node.get("args", []), found)
        return found
    return [(str(n[0]), int(n[1]), int(n[2])) for n in node]  # Keras 2


def _batch_shape(config: dict[str, Any]) -> list | None:
    for field in ("batch_shape", "batch_input_shape"):
        if config.get(field) is not None:
            return list(config[field])
    return None


def _input(name: str, config: dict[str, Any], shape: list | None) -> tuple[Key, tuple, str]:
    if shape is None:
        raise ModelError(f"input {name!r} has no shape in the config; give the model a keras.Input")
    dtype = config.get("dtype", "float32")
    dtype = dtype.get("config", {}).get("name", "float32") if isinstance(dtype, dict) else dtype
    return (name, 0, 0), tuple(shape), str(dtype)


def _sequential(config: dict[str, Any]) -> ModelSpec:
    layers = config["layers"]
    calls: list[Call] = []
    inputs: list[tuple[Key, tuple, str]] = []
    previous: Key | None = None
    for layer in layers:
        cls, cfg = layer["class_name"], layer.get("config", {})
        name = cfg.get("name") or layer.get("name")
        if cls == "InputLayer":
            inputs.append(_input(name, cfg, _batch_shape(cfg)))
            previous = (name, 0, 0)
            continue
        if previous is None:  # no InputLayer: the first layer or the model gives the shape
            shape = _batch_shape(cfg) or config.get("build_input_shape")
            inputs.append(_input(f"{name}_input", cfg, shape))
            previous = (f"{name}_input", 0, 0)
        calls.append(Call(name, cls, cfg, [previous]))
        previous = (name, 0, 0)
    if previous is None or not inputs:
        raise ModelError("an empty Sequential model")
    return ModelSpec(calls, inputs, [previous])


def _functional(config: dict[str, Any]) -> ModelSpec:
    calls: list[Call] = []
    shapes: dict[str, tuple[Key, tuple, str]] = {}
    for layer in config["layers"]:
        cls, cfg = layer["class_name"], layer.get("config", {})
        name = layer.get("name") or cfg.get("name")
        if cls == "InputLayer":
            shapes[name] = _input(name, cfg, _batch_shape(cfg))
            continue
        for index, node in enumerate(layer.get("inbound_nodes") or []):
            calls.append(Call(name, cls, cfg, _node_inputs(node), index))
    inputs = []
    for key in _triples(config["input_layers"]):
        if key[0] not in shapes:
            raise ModelError(f"model input {key[0]!r} is not an InputLayer of the config")
        inputs.append(shapes[key[0]])
    return ModelSpec(calls, inputs, _triples(config["output_layers"]))


def model_spec(config: dict[str, Any]) -> ModelSpec:
    """The calls, inputs and outputs of a saved model's config (``class_name`` Sequential,
    Functional or Model)."""
    cls = config.get("class_name")
    inner = config.get("config")
    try:
        if cls == "Sequential" and isinstance(inner, dict):
            return _sequential(inner)
        if cls in ("Functional", "Model") and isinstance(inner, dict) and "layers" in inner:
            return _functional(inner)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"malformed Keras model config ({type(exc).__name__}: {exc}); re-save the "
                         "model") from None
    raise UnsupportedOpError(f"a Keras {cls} model: only Sequential and functional models are "
                             "supported (a subclassed model has no layer graph in its config)")
