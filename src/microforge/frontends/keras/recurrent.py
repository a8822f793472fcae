"""LSTM: TFLM's UNIDIRECTIONAL_SEQUENCE_LSTM (batch-major, tanh cell activation, no clipping).

Keras stores ``kernel`` (in, 4 units), ``recurrent_kernel`` (units, 4 units) and ``bias``
(4 units) with the gates in the order input, forget, cell, output; TFLite takes one (units, in)
matrix, (units, units) matrix and bias per gate (inputs 1-4, 5-8, 12-15) and the hidden and cell
states as variable tensors (inputs 18, 19), which persist across invokes as in TFLM. With
``return_sequences=False`` a STRIDED_SLICE keeps the last step.
"""

from __future__ import annotations

import numpy as np

from microforge.frontends.keras.activations import activation_name
from microforge.frontends.keras.lowering import Layer, Lowering
from microforge.ir import Activation

_GATES = ("input", "forget", "cell", "output")


def lower_lstm(lw: Lowering, layer: Layer, xs: list[int]) -> list[int]:
    for option, wanted in (("return_state", False), ("go_backwards", False), ("time_major", False)):
        if bool(layer.get(option, wanted)) != wanted:
            raise layer.unsupported(f"{option}={not wanted}")
    for option, wanted in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
        if activation_name(layer.get(option, wanted)) != wanted:
            raise layer.unsupported(f"{option} other than {wanted!r}")
    kernel, recurrent = layer.weights[:2]
    units = recurrent.shape[0]
    bias = layer.weights[2] if layer.get("use_bias", True) else np.zeros(4 * units, np.float32)
    x = xs[0]
    batch, steps, _ = lw.shape(x)
    name = layer.name

    def split(matrix: np.ndarray, kind: str) -> list[int]:
        parts = np.split(matrix, 4, axis=-1)
        return [lw.const(f"{name}/{gate}_{kind}", p.T) for gate, p in zip(_GATES, parts)]

    biases = [lw.const(f"{name}/{gate}_bias", b) for gate, b in zip(_GATES, np.split(bias, 4))]
    states = [lw.b.tensor(f"{name}/{s}_state", (batch, units), np.float32, variable=True)
              for s in ("hidden", "cell")]
    inputs = ([x] + split(kernel, "input_weights") + split(recurrent, "recurrent_weights")
              + [-1] * 3 + biases + [-1] * 2 + states + [-1] * 4)
    sequence = lw.value(name if layer.get("return_sequences", False) else f"{name}/sequence",
                        (batch, steps, units))
    lw.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [sequence],
          fused_activation_function=Activation.TANH, cell_clip=0.0, proj_clip=0.0,
          time_major=False, asymmetric_quantize_inputs=False, diagonal_recurrent_tensors=False)
    if layer.get("return_sequences", False):
        return [sequence]
    last = lw.value(name, (batch, units))
    ends = [lw.ints(f"{name}/{k}", v) for k, v in (("begin", [0, steps - 1, 0]),
                                                    ("end", [0, steps, 0]), ("strides", [1, 1, 1]))]
    lw.op("STRIDED_SLICE", [sequence] + ends, [last], begin_mask=5, end_mask=5, ellipsis_mask=0,
          new_axis_mask=0, shrink_axis_mask=2, offset=False)
    return [last]
