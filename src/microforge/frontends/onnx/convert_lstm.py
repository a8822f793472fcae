"""ONNX LSTM -> UNIDIRECTIONAL_SEQUENCE_LSTM (TFLM's, 24 inputs).

ONNX orders the gates input, output, forget, cell (``W = [W_i; W_o; W_f; W_c]``) and keeps two
biases (``Wb``, ``Rb``); TFLite takes one weight matrix per gate and one bias (``Wb + Rb``). A
batch-major input (torch's ``batch_first``, which exports a Transpose before the LSTM) runs with
``time_major=False``; a time-major one with ``time_major=True``. The initial states must be zero:
they become TFLM's variable state tensors, which the runtime keeps between invokes (reset them
to run independent sequences, as with any TFLite LSTM).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from microforge.frontends.onnx.attrs import attrs
from microforge.frontends.onnx.context import Context
from microforge.frontends.onnx.convert_shape import reshape, strided_slice
from microforge.frontends.onnx.layout import identity
from microforge.frontends.onnx.registry import converter
from microforge.ir import Activation

_ONNX_GATES = {"i": 0, "o": 1, "f": 2, "c": 3}
_TFLITE_ORDER = "ifco"  # input order of TFLite's per-gate weights and biases


def _optional(node: Any, k: int) -> str:
    return node.input[k] if len(node.input) > k else ""


@converter("LSTM")
def lstm(ctx: Context, node: Any) -> None:
    a = attrs(node)
    if a.get("direction", "forward") != "forward":
        raise ctx.unsupported(f"direction '{a['direction']}' (forward only)")
    if int(a.get("layout", 0)) or int(a.get("input_forget", 0)) or "clip" in a:
        raise ctx.unsupported("layout=1, input_forget or clip")
    if [x.lower() for x in a.get("activations", [])] not in ([], ["sigmoid", "tanh", "tanh"]):
        raise ctx.unsupported("activations other than Sigmoid, Tanh, Tanh")
    if _optional(node, 7):
        raise ctx.unsupported("peephole weights (TFLM's LSTM has none)")
    for k, what in ((5, "initial_h"), (6, "initial_c")):
        init = ctx.const(_optional(node, k)) if _optional(node, k) else 0
        if init is None or np.any(np.asarray(init) != 0):
            raise ctx.unsupported(f"a nonzero {what} (TFLM's state starts at zero)")
    if _optional(node, 4):
        lens = ctx.const(node.input[4])
        steps = ctx.value(node.input[0]).shape[0]
        if lens is None or np.any(lens != steps):
            raise ctx.unsupported("sequence_lens shorter than the sequence")
    w = ctx.need_const(node.input[1], "LSTM weights")[0].astype(np.float32)
    r = ctx.need_const(node.input[2], "LSTM weights")[0].astype(np.float32)
    units = r.shape[1]
    b = (ctx.need_const(node.input[3], "LSTM bias")[0].astype(np.float32)
         if _optional(node, 3) else np.zeros(8 * units, np.float32))
    bias = b[:4 * units] + b[4 * units:]

    def gate(m: np.ndarray, g: str) -> np.ndarray:
        k = _ONNX_GATES[g]
        return np.ascontiguousarray(m[k * units:(k + 1) * units])

    v = ctx.value(node.input[0])
    steps, batch, _ = v.shape
    time_major = v.perm != (1, 0, 2)
    perm = identity(3) if time_major else (1, 0, 2)
    name = node.output[0] if node.output and node.output[0] else f"{node.name}/Y"
    consts = ctx.builder.const
    ins = [ctx.tensor(node.input[0], perm)]
    ins += [consts(f"{name}/w_{g}", gate(w, g)) for g in _TFLITE_ORDER]
    ins += [consts(f"{name}/r_{g}", gate(r, g)) for g in _TFLITE_ORDER]
    ins += [-1, -1, -1]
    ins += [consts(f"{name}/b_{g}", gate(bias, g)) for g in _TFLITE_ORDER]
    ins += [-1, -1]
    for state in ("h", "c"):
        ins.append(ctx.builder.tensor(f"{name}/{state}_state", (batch, units), np.float32,
                                      data=np.zeros((batch, units), np.float32), variable=True))
    ins += [-1] * 4
    seq = f"{name}/sequence"
    out = ctx.define(seq, (steps, batch, units), perm)
    ctx.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [out], fused_activation_function=Activation.TANH,
           cell_clip=0.0, proj_clip=0.0, time_major=time_major, asymmetric_quantize_inputs=False)
    y_perm = (0, 1, 2, 3) if time_major else (2, 0, 1, 3)
    reshape(ctx, seq, name, (steps, 1, batch, units), y_perm)
    if len(node.output) > 1 and node.output[1]:
        strided_slice(ctx, name, node.output[1], {0: (steps - 1, steps, 1)}, {0})
    if len(node.output) > 2 and node.output[2] and ctx.uses.get(node.output[2], 0):
        raise ctx.unsupported("the Y_c output (TFLM's LSTM does not output its cell state)")
