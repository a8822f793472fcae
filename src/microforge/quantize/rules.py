"""What TFLM requires of each quantized operator, as data.

Every rule names the operator's kind:

* ``weighted``: CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED — input 1 is a constant weight
  tensor quantized symmetrically (int8, zero point 0) per channel along ``weight_axis`` (or per
  tensor), input 2 an optional bias quantized to int32 (int64 for 16x8) with scale
  ``input_scale * weight_scale`` and zero point 0; the output has its own calibrated parameters.
  PRELU is weighted too: its constant alpha (input 1) is int8, symmetric and always per tensor
  (``per_channel`` False), as the TFLite converter quantizes it (measured: a Keras PReLU with
  per-channel alphas converts to an int8 alpha with one scale, max |alpha| / 127, zero point 0).
* ``free``: the kernel rescales, so the output has its own calibrated parameters.
* ``same``: the kernel copies or compares stored values, so the output must carry the input's exact
  parameters (pooling, reshapes, slicing, padding, RELU6, REDUCE_MAX/MIN); with ``multi`` every
  float input must too (CONCATENATION, MAXIMUM, MINIMUM).
* ``fixed``: the output parameters are fixed by TFLM (SOFTMAX and LOGISTIC 1/256 and -128, TANH
  1/128 and 0; 1/32768 and 0 for all three with int16 activations).
* ``lstm``: UNIDIRECTIONAL_SEQUENCE_LSTM's int8 scheme (:mod:`microforge.quantize.lstm`): per-tensor
  int8 gate weights, int32 gate biases, int8 hidden state sharing the output's parameters, int16
  cell state with a power-of-two scale.

``int16`` tells whether TFLM has the 16x8 (int16 activation) variant.

The facts live in the operator table (each row's ``quant`` and ``weight_axis``,
:mod:`microforge.ir.ops`); :data:`RULES` is the quantizer's view of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir.ops import OPS, OpDef
from microforge.quantize.lstm import why_not_int8_lstm


@dataclass(frozen=True)
class Rule:
    kind: str
    weight_axis: int = 0
    int16: bool = True
    multi: bool = False
    per_channel: bool = True
    fixed8: tuple[float, int] | None = None
    fixed16: tuple[float, int] | None = None


def _rule(row: OpDef) -> Rule:
    q = row.quant
    assert q is not None
    return Rule(q.kind, weight_axis=row.weight_axis or 0, int16=q.int16, multi=q.multi,
                per_channel=q.per_channel, fixed8=q.fixed8, fixed16=q.fixed16)


RULES: dict[str, Rule] = {name: _rule(row) for name, row in OPS.items() if row.quant is not None}


def fixed_params(rule: Rule, int16: bool) -> tuple[float, int]:
    """(scale, zero point) TFLM requires on a fixed-output operator's output."""
    params = rule.fixed16 if int16 else rule.fixed8
    assert params is not None
    return params


def why_not_quantizable(op, sg, int16: bool) -> str | None:
    """None when ``op`` can be quantized with these rules, else the reason."""
    rule = RULES.get(op.opcode)
    if op.custom or rule is None:
        return "no int8 rule for this operator"
    if int16 and not rule.int16:
        return "TFLM has no int16 variant"
    outs = [sg.tensors[t] for t in op.outputs]
    if any(t.dtype != np.float32 for t in outs):
        return "non-float output"
    if rule.kind == "lstm":
        return why_not_int8_lstm(op, sg)
    if rule.kind == "weighted":
        w = sg.tensor(op.inputs[1]) if len(op.inputs) > 1 else None
        if w is None or not w.is_constant or w.dtype != np.float32:
            return "weights are not a float32 constant"
        b = sg.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
        if b is not None and (not b.is_constant or b.dtype != np.float32):
            return "bias is not a float32 constant"
    return None
