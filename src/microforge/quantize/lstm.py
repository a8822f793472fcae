"""int8 UNIDIRECTIONAL_SEQUENCE_LSTM, as the TFLite converter quantizes it (TFLM's "int8x8_16"
kernel: int8 activations and weights, int16 cell state, int32 biases).

Measured on the converter's output for a Keras LSTM (benchmarks/quantize_vs_tflite_converter.py's
``lstm_kws``) and read in TFLM's ``unidirectional_sequence_lstm.cc`` / ``lstm_eval``:

* the input is int8 with its own calibrated parameters; the output and the hidden-state variable
  (input 18) share the output's calibrated int8 parameters (the kernel writes ``h`` to both);
* each of the eight gate weight matrices is int8, symmetric, one scale ``max|w| / 127``;
* each gate bias is int32 with scale ``s_input * s_input_to_gate_weights`` (it is added to the
  input FC's accumulator), zero point 0;
* the cell-state variable (input 19) is int16, zero point 0, with a power-of-two scale
  ``2**p / 32768``, ``p`` the smallest integer in [0, 10] with ``2**p >= max|c|`` over the
  calibration sequences (the converter's ``GetPowerOfTwoScale``); TFLM derives the fixed gate
  (Q3.12) and activation (Q0.15) scales itself, so the op's intermediate tensors are not needed.

Only the standard LSTM is handled (no peephole, projection, layer norm or CIFG; tanh cell
activation), the variant TFLM's int8 kernel and microforge's runtime run.
"""

from __future__ import annotations

import numpy as np

from microforge.ir import Activation, Operator, Subgraph

INPUT_WEIGHTS = (1, 2, 3, 4)  # input-to-gate weights: input, forget, cell, output gates
RECURRENT_WEIGHTS = (5, 6, 7, 8)
BIASES = (12, 13, 14, 15)
HIDDEN_STATE, CELL_STATE = 18, 19
_ABSENT = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
           20: "layer norm", 21: "layer norm", 22: "layer norm", 23: "layer norm"}
MAX_POWER = 10  # the converter's GetPowerOfTwoScale tries 2**0 .. 2**10


def why_not_int8_lstm(op: Operator, sg: Subgraph) -> str | None:
    """None when the LSTM has the form TFLM's int8 kernel runs, else the reason."""
    if len(op.inputs) != 24:
        return "an LSTM needs 24 inputs"
    for pos, what in _ABSENT.items():
        if op.inputs[pos] >= 0:
            return f"LSTM with {what} tensors (TFLM's int8 kernel does not run them)"
    for pos in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES):
        t = sg.tensor(op.inputs[pos])
        if t is None or not t.is_constant or t.dtype != np.float32:
            return "LSTM weights and biases must be float32 constants (no CIFG)"
    for pos in (HIDDEN_STATE, CELL_STATE):
        t = sg.tensor(op.inputs[pos])
        if t is None or not t.is_variable:
            return "LSTM states must be variable tensors"
    if int(op.options.get("fused_activation_function") or 0) != Activation.TANH:
        return "LSTM cell activation other than tanh"
    return None


def sequences(op: Operator, sg: Subgraph, x: np.ndarray) -> np.ndarray:
    """Calibration samples of the LSTM input ((n,) + input shape) as (sequences, steps, features)."""
    shape = sg.tensors[op.inputs[0]].shape
    x = x.reshape((-1,) + tuple(shape))
    if op.options.get("time_major"):
        x = x.transpose(0, 2, 1, 3)  # (n, batch, steps, features)
    return x.reshape(-1, x.shape[-2], x.shape[-1])


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def cell_max(op: Operator, sg: Subgraph, x: np.ndarray) -> float:
    """max |c| over every step of the calibration sequences ``x`` ((n, steps, features)), the
    float LSTM run from zero states with its cell clip."""
    def weights(positions):
        return np.concatenate([sg.tensors[op.inputs[p]].data for p in positions]).astype(np.float64)

    w_in, w_rec, bias = weights(INPUT_WEIGHTS), weights(RECURRENT_WEIGHTS), weights(BIASES)
    units = w_rec.shape[1]
    clip = float(op.options.get("cell_clip") or 0.0)
    gates_in = x.astype(np.float64) @ w_in.T + bias
    h = np.zeros((len(x), units))
    c = np.zeros((len(x), units))
    top = 0.0
    for t in range(x.shape[1]):
        z = gates_in[:, t] + h @ w_rec.T
        i, f = _sigmoid(z[:, :units]), _sigmoid(z[:, units:2 * units])
        g, o = np.tanh(z[:, 2 * units:3 * units]), _sigmoid(z[:, 3 * units:])
        c = f * c + i * g
        if clip > 0:
            c = np.clip(c, -clip, clip)
        h = o * np.tanh(c)
        top = max(top, float(np.abs(c).max(initial=0.0)))
    return top


def cell_scale(top: float) -> float:
    """The int16 cell-state scale ``2**p / 32768`` for a calibrated max |c| (GetPowerOfTwoScale)."""
    power = 0
    while power < MAX_POWER and 2.0 ** power < top:
        power += 1
    return 2.0 ** power / 32768.0
