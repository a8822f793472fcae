"""A Keras model (config + weights) to the IR: every layer call in dependency order, lowered by
its row of ``layers.LOWERINGS``.

Keras is channels-last like TFLM, so no layout changes (``Graph.source`` stays None). A ``None``
batch dimension becomes 1 with -1 in the tensors' ``shape_signature``, as the TFLite converter
writes it.
"""

from __future__ import annotations

import numpy as np

from microforge.errors import ModelError, UnsupportedOpError
from microforge.frontends.keras.config import Call, Key, ModelSpec, model_spec
from microforge.frontends.keras.container import KerasFile
from microforge.frontends.keras.layers import IDENTITY, LOWERINGS
from microforge.frontends.keras.lowering import Layer, Lowering
from microforge.ir import Graph


def _unsupported(call: Call) -> UnsupportedOpError:
    return UnsupportedOpError(
        f"layer {call.cls} {call.name!r} is not supported by the Keras frontend; supported: "
        f"{', '.join(sorted(LOWERINGS))} (and {', '.join(sorted(IDENTITY))} as no-ops)")


def _aliases(spec: ModelSpec) -> dict[Key, Key]:
    """Each output of a no-op layer (Dropout, ...) -> the tensor it passes through."""
    alias: dict[Key, Key] = {}
    for call in spec.calls:
        if call.cls in IDENTITY:
            alias[(call.name, call.node, 0)] = call.inputs[0]

    def resolve(key: Key) -> Key:
        while key in alias:
            key = alias[key]
        return key

    return {key: resolve(key) for key in alias}


def _shape(batch_shape: tuple, name: str) -> tuple[tuple[int, ...], bool]:
    dims = batch_shape[1:]
    if any(d is None for d in dims):
        raise ModelError(f"input {name!r} has a variable dimension {list(batch_shape)}; "
                         "give the model a fixed input shape (keras.Input(shape=...))")
    return (1 if batch_shape[0] is None else int(batch_shape[0]),) + tuple(int(d) for d in dims), (
        batch_shape[0] is None)


def read_keras(kf: KerasFile) -> Graph:
    """The IR of a Keras model file's content."""
    spec = model_spec(kf.config)
    for call in spec.calls:
        if call.cls not in LOWERINGS and call.cls not in IDENTITY:
            raise _unsupported(call)
    alias = _aliases(spec)
    real = [c for c in spec.calls if c.cls not in IDENTITY]
    outputs = [alias.get(k, k) for k in spec.outputs]
    readers: dict[Key, int] = {}
    for call in real:
        for key in call.inputs:
            key = alias.get(key, key)
            readers[key] = readers.get(key, 0) + 1
    shapes = [_shape(shape, key[0]) for key, shape, _ in spec.inputs]
    lw = Lowering(kf.keras_version, dynamic_batch=any(dynamic for _, dynamic in shapes))
    values: dict[Key, int] = {}
    for (key, _, dtype), (shape, _) in zip(spec.inputs, shapes):
        if dtype != "float32":
            raise UnsupportedOpError(f"input {key[0]!r} of dtype {dtype}: only float32 inputs")
        values[key] = lw.value(key[0], shape)
        lw.b.inputs.append(values[key])
    pending = real
    while pending:
        ready = [c for c in pending if all(alias.get(k, k) in values for k in c.inputs)]
        if not ready:
            raise ModelError(f"layer {pending[0].name!r} reads a tensor no layer makes; "
                             "re-save the model")
        for call in ready:
            _lower(lw, kf, call, values, alias, readers, outputs)
        pending = [c for c in pending if c not in ready]
    missing = [k[0] for k in outputs if k not in values]
    if missing:
        raise ModelError(f"model output(s) {missing} are not made by any layer")
    lw.b.outputs.extend(values[k] for k in outputs)
    graph = lw.b.build()
    graph.description = f"microforge (Keras {kf.keras_version})"
    return graph


def _lower(lw: Lowering, kf: KerasFile, call: Call, values: dict[Key, int],
           alias: dict[Key, Key], readers: dict[Key, int], outputs: list[Key]) -> None:
    keys = [alias.get(k, k) for k in call.inputs]
    if not keys:
        raise ModelError(f"layer {call.name!r} has no input")
    weights = [np.asarray(w, np.float32) for w in kf.weights.get(call.name, [])]
    sole = readers.get(keys[0], 0) == 1 and keys[0] not in outputs
    layer = Layer(call.name, call.cls, call.config, weights, sole)
    try:
        made = LOWERINGS[call.cls](lw, layer, [values[k] for k in keys])
    except (IndexError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"layer {call.cls} {call.name!r}: its config or weights do not fit "
                         f"({type(exc).__name__}: {exc}); re-save the model") from None
    for index, tensor in enumerate(made):
        values[(call.name, call.node, index)] = tensor
