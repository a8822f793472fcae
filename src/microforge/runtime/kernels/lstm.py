"""UNIDIRECTIONAL_SEQUENCE_LSTM: the standard (keras) LSTM over a sequence, stateful.

Hidden state and cell state are variable tensors carried across invokes. Per time step:
``f, i, o = sigmoid(W_x x + W_h h + b)``, ``g = tanh(W_x x + W_h h + b)``,
``c = f * c + i * g`` (optionally clipped), ``h = o * tanh(c)``, output[t] = h.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microforge.fixedpoint import (
    logistic_int16_lut,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    tanh_int16_lut,
    wrap_int32,
)
from microforge.ir import Activation
from microforge.runtime.kernels.common import float_logistic, tanhf
from microforge.runtime.kernels.logistic_tanh import checked_log2
from microforge.runtime.registry import Kernel, OpContext, register

# Input tensor indices (TFLite's LSTM layout). Gates are ordered forget, input, cell, output,
# the order in which TFLM evaluates them.
_INPUT_WEIGHTS = (2, 1, 3, 4)
_RECURRENT_WEIGHTS = (6, 5, 7, 8)
_BIASES = (13, 12, 14, 15)
_UNSUPPORTED = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection",
                17: "projection", 20: "layer norm", 21: "layer norm", 22: "layer norm",
                23: "layer norm"}
HIDDEN_STATE, CELL_STATE = 18, 19  # input indices of the variable state tensors

_GATE_SCALE = 2.0 ** -12  # gate pre-activations are Q3.12
_ACT_SCALE = 2.0 ** -15  # sigmoid / tanh outputs are Q0.15
_F32_EXACT = 1 << 24  # float32 BLAS is exact while every partial sum is an integer below this
_ALL_INT16 = np.arange(-32768, 32768, dtype=np.int64)
_GATE_OFFSET = 65536  # gate sums index the gate tables from -65536
_GATE_SUMS = np.clip(np.arange(-65536, 65536, dtype=np.int64), -32768, 32767)


@dataclass
class LstmLayout:
    """The sequence layout: ``time_major`` ([steps, batch, input] rather than [batch, steps,
    input]), the model's own ``batch``, the sequence length ``steps`` and the cell count
    ``units``."""

    time_major: bool
    batch: int  # the model's own batch dimension
    steps: int
    units: int


@dataclass
class LstmIntParams:
    """int8 LSTM parameters (TFLM ``OpDataLSTM``, as ``unidirectional_sequence_lstm.cc``'s
    Prepare computes it).

    Gates are ordered forget, input, cell, output; gate rows are ``gate * units + unit``.
    ``w_input`` (input_size, 4 * units) / ``w_recurrent`` (units, 4 * units): the int8 weights,
    transposed. ``bias``: (4 * units,) int64 gate biases
    (on the input FC). ``input_zp`` / ``hidden_zp``: zero points of x and h. ``input_mult`` /
    ``recurrent_mult``: per gate row Q31 multipliers and shifts of the input / recurrent FC to the
    Q3.12 gate scale (``s_x * s_w / 2**-12``). ``forget_mult`` / ``input_cell_mult`` /
    ``hidden_mult``: (multiplier, shift) of ``f * c`` (``2**-15 * s_c / s_c``), ``i * g``
    (``2**-30 / s_c``) and ``o * tanh(c)`` (``2**-30 / s_h``). ``cell_clip``: the int16 cell clip
    (0: none). ``cell_tanh_multiplier`` / ``cell_tanh_shift``: the int16 LUT input scaling of
    ``tanh(c)`` (from ``CheckedLog2(s_c)``; multiplier 0 means ``3 << shift``).
    Runtime only (not read by the C backend): ``sigmoid_table`` / ``tanh_table``, the gate
    activations (Q3.12 -> Q0.15) of every gate sum v at index v + 65536 (int64);
    ``cell_tanh_table``, tanh of every int16 cell value (index c + 32768, Q0.15);
    ``matmul_w_input`` / ``matmul_w_recurrent``, the weights in the exact BLAS dtype."""

    layout: LstmLayout
    w_input: np.ndarray
    w_recurrent: np.ndarray
    bias: np.ndarray
    input_zp: int
    hidden_zp: int
    input_mult: tuple[np.ndarray, np.ndarray]
    recurrent_mult: tuple[np.ndarray, np.ndarray]
    forget_mult: tuple[int, int]
    input_cell_mult: tuple[int, int]
    hidden_mult: tuple[int, int]
    cell_clip: int
    cell_tanh_multiplier: int
    cell_tanh_shift: int
    sigmoid_table: np.ndarray
    tanh_table: np.ndarray
    cell_tanh_table: np.ndarray
    matmul_w_input: np.ndarray = field(repr=False, compare=False)
    matmul_w_recurrent: np.ndarray = field(repr=False, compare=False)


@dataclass
class LstmFloatParams:
    """float32 LSTM parameters: ``w_input`` (4 * units, input_size), ``w_recurrent``
    (4 * units, units) and ``bias`` (4 * units,) float32, gates ordered forget, input, cell,
    output; ``cell_clip`` (0: no clipping)."""

    layout: LstmLayout
    w_input: np.ndarray
    w_recurrent: np.ndarray
    bias: np.ndarray
    cell_clip: float


def _matmul_dtype(weights: np.ndarray, max_abs_input: int) -> type:
    bound = max_abs_input * int(np.abs(weights).sum(axis=0).max(initial=0))
    return np.float32 if bound < _F32_EXACT else np.float64


def _fc_multiplier(input_scale: float, weight_scale: float) -> tuple[int, int]:
    """The gate FC requantization to the Q3.12 gate scale (GetQuantizedConvolutionMultipler)."""
    return quantize_multiplier(float(input_scale) * float(weight_scale) / _GATE_SCALE)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM")
class UnidirectionalSequenceLstm(Kernel):
    """TFLM ``unidirectional_sequence_lstm.cc`` + ``lstm_eval.h`` for the standard LSTM (no
    peephole, projection, layer norm or CIFG; TFLM rejects those too) with a tanh cell gate.

    int8 path (int8 activations and weights, int32 biases, int16 cell state): each gate is
    ``clamp16(FC(x) + FC(h))`` where both FCs requantize (MultiplyByQuantizedMultiplier, double
    rounding) to the fixed Q3.12 gate scale with multipliers ``s_in * s_w / 2**-12`` computed in
    double; the input FC carries the gate bias, the recurrent FC none. The op's intermediate
    tensors are ignored, as TFLM ignores them. Gates go through TFLM's int16 LUT sigmoid / tanh
    (``sigmoid_table_uint16`` with interpolation; Q0.15 output), tabulated in prepare for every
    possible input. The cell update uses
    ``MulElementwise`` with multipliers ``2**-15 * s_c / s_c`` and ``2**-30 / s_c``, a saturating
    int16 add and the cell clip ``int16(min(clip / s_c, 32767))``; ``tanh(c)`` uses the LUT with
    the input shift from ``CheckedLog2(s_c)``; ``h = o * tanh(c)`` requantizes with
    ``2**-30 / s_h`` plus the hidden zero point, clamped to int8.

    float32 path: TFLM's reference FC (sequential float32 sums over the input, then + bias,
    clamped to +-FLT_MAX), float sigmoid with TFLM's cutoffs and glibc's expf, glibc's tanhf,
    float products clamped to +-FLT_MAX, cell clip with std::min/max semantics. No FMA anywhere,
    so results are byte-identical to the tflite-micro wheel (which links glibc's libm; on a
    device with another libm the float transcendental results may differ by an ulp).

    Time-major and batch-major layouts; every row of the model batch is an independent sequence
    in both (TFLM's step order only differs in how rows are interleaved). Exactness of the integer
    matmuls: float32 when ``255 * max column sum |w|`` < 2**24, else float64.
    Tests: single-op models from trained_lstm_int8, trained_lstm and both dtln_noise_suppression
    LSTMs (nonzero hidden zero point, cell scale 2**-11) over sequences with resets; time-major
    and multi-row variants; int8 cell clip off (int16 saturation) and tight; float gates past
    the sigmoid cutoffs with the cell clip on and off; the int16 LUTs exhaustively against TFLM's
    LOGISTIC / TANH; the whole MNIST-LSTM and DTLN models over sequences.
    """

    def prepare(self, ctx: OpContext) -> LstmIntParams | LstmFloatParams:
        if len(ctx.op.inputs) != 24:
            raise ctx.unsupported("UNIDIRECTIONAL_SEQUENCE_LSTM needs 24 inputs")
        for i, what in _UNSUPPORTED.items():
            if ctx.input(i) is not None:
                raise ctx.unsupported(f"LSTM with {what} tensors (TFLM does not support it)")
        needed = (0, *_INPUT_WEIGHTS, *_RECURRENT_WEIGHTS, *_BIASES, HIDDEN_STATE, CELL_STATE)
        if any(ctx.input(i) is None for i in needed):
            raise ctx.unsupported("LSTM without input gate (CIFG) or with missing tensors")
        hidden, cell = ctx.input(HIDDEN_STATE), ctx.input(CELL_STATE)
        if not (hidden.is_variable and cell.is_variable):
            raise ctx.unsupported("LSTM hidden and cell states must be variable tensors")
        for i in (*_INPUT_WEIGHTS, *_RECURRENT_WEIGHTS, *_BIASES):
            if ctx.input(i).data is None:
                raise ctx.unsupported("non-constant LSTM weights")
        opts = ctx.options
        if int(opts.get("fused_activation_function", Activation.NONE)) != Activation.TANH:
            raise ctx.unsupported("LSTM cell gate activation other than tanh")
        layout = self._layout(ctx)
        x = ctx.input(0)
        if x.dtype == np.float32:
            return self._prepare_float(ctx, layout)
        if x.dtype == np.int8:
            return self._prepare_int(ctx, layout)
        raise ctx.unsupported(f"LSTM with {x.dtype} activations")

    @staticmethod
    def _layout(ctx: OpContext) -> LstmLayout:
        x, out = ctx.input(0), ctx.output()
        if len(x.shape) != 3 or len(out.shape) != 3:
            raise ctx.unsupported("LSTM input and output must be 3-D")
        time_major = bool(ctx.options.get("time_major", False))
        steps, batch = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
        units = ctx.input(_RECURRENT_WEIGHTS[0]).shape[0]
        size = batch * units
        if (out.shape[:2] != x.shape[:2] or out.shape[2] != units
                or ctx.input(HIDDEN_STATE).size != size or ctx.input(CELL_STATE).size != size):
            raise ctx.unsupported("inconsistent LSTM tensor shapes")
        for i in (*_INPUT_WEIGHTS, *_RECURRENT_WEIGHTS):
            cols = x.shape[2] if i in _INPUT_WEIGHTS else units
            if ctx.input(i).shape != (units, cols):
                raise ctx.unsupported("inconsistent LSTM weight shapes")
        return LstmLayout(time_major, batch, steps, units)

    def _prepare_float(self, ctx: OpContext, layout: LstmLayout) -> LstmFloatParams:
        tensors = [ctx.input(i) for i in (0, *_INPUT_WEIGHTS, *_RECURRENT_WEIGHTS, *_BIASES,
                                          HIDDEN_STATE, CELL_STATE)] + [ctx.output()]
        if any(t.dtype != np.float32 for t in tensors):
            raise ctx.unsupported("float LSTM needs float32 weights, biases and states")
        return LstmFloatParams(
            layout=layout,
            w_input=np.concatenate([ctx.input(i).data for i in _INPUT_WEIGHTS]).astype(np.float32),
            w_recurrent=np.concatenate(
                [ctx.input(i).data for i in _RECURRENT_WEIGHTS]).astype(np.float32),
            bias=np.concatenate([ctx.input(i).data for i in _BIASES]).astype(np.float32),
            cell_clip=float(np.float32(ctx.options.get("cell_clip", 0.0))),
        )

    def _prepare_int(self, ctx: OpContext, layout: LstmLayout) -> LstmIntParams:
        x, hidden, cell, out = ctx.input(0), ctx.input(HIDDEN_STATE), ctx.input(CELL_STATE), ctx.output()
        w_in = [ctx.input(i) for i in _INPUT_WEIGHTS]
        w_rec = [ctx.input(i) for i in _RECURRENT_WEIGHTS]
        biases = [ctx.input(i) for i in _BIASES]
        if hidden.dtype != np.int8 or out.dtype != np.int8 or cell.dtype != np.int16:
            raise ctx.unsupported("int8 LSTM needs int8 hidden state/output, int16 cell state")
        if any(w.dtype != np.int8 for w in w_in + w_rec) or any(
            b.dtype != np.int32 for b in biases
        ):
            raise ctx.unsupported("int8 LSTM needs int8 weights and int32 biases")
        for t in [x, hidden, cell, *w_in, *w_rec]:
            if t.quant is None or not t.quant.is_quantized or t.quant.per_channel:
                raise ctx.unsupported(f"tensor {t.name!r} must be per-tensor quantized")
        if any(w.zero_point != 0 for w in w_in + w_rec):
            raise ctx.unsupported("LSTM weights with a nonzero zero point")
        s_cell = float(np.float32(cell.scale))
        s_hidden = float(np.float32(hidden.scale))
        power, _ = checked_log2(s_cell)  # exactness is not enforced
        tanh_shift = 15 + power - 3
        tanh_multiplier = 0 if tanh_shift >= 0 else 3
        cell_clip = float(np.float32(ctx.options.get("cell_clip", 0.0)))
        quantized_clip = 0
        if cell_clip > 0:
            quantized_clip = int(min(max(cell_clip / s_cell, -32768.0), 32767.0))
        w_input = np.concatenate([w.data for w in w_in]).astype(np.int64).T
        w_recurrent = np.concatenate([w.data for w in w_rec]).astype(np.int64).T
        units = layout.units

        def per_gate(mults: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
            q = np.repeat(np.array([m[0] for m in mults], np.int64), units)
            s = np.repeat(np.array([m[1] for m in mults], np.int64), units)
            return q, s

        return LstmIntParams(
            layout=layout,
            w_input=w_input.astype(np.int8),
            w_recurrent=w_recurrent.astype(np.int8),
            bias=np.concatenate([b.data for b in biases]).astype(np.int64),
            input_zp=x.zero_point,
            hidden_zp=hidden.zero_point,
            input_mult=per_gate([_fc_multiplier(np.float32(x.scale), np.float32(w.scale))
                                 for w in w_in]),
            recurrent_mult=per_gate([_fc_multiplier(np.float32(hidden.scale), np.float32(w.scale))
                                     for w in w_rec]),
            forget_mult=quantize_multiplier(_ACT_SCALE * s_cell / s_cell),
            input_cell_mult=quantize_multiplier(_ACT_SCALE * _ACT_SCALE / s_cell),
            hidden_mult=quantize_multiplier(_ACT_SCALE * _ACT_SCALE / s_hidden),
            cell_clip=quantized_clip,
            cell_tanh_multiplier=tanh_multiplier,
            cell_tanh_shift=abs(tanh_shift),
            sigmoid_table=logistic_int16_lut(_GATE_SUMS).astype(np.int64),
            tanh_table=tanh_int16_lut(_GATE_SUMS).astype(np.int64),
            cell_tanh_table=tanh_int16_lut(_ALL_INT16, tanh_multiplier, abs(tanh_shift)).astype(
                np.int64),
            matmul_w_input=w_input.astype(_matmul_dtype(w_input, 255)),
            matmul_w_recurrent=w_recurrent.astype(_matmul_dtype(w_recurrent, 255)),
        )

    # ---- eval ------------------------------------------------------------------------------

    def eval(self, params, inputs, ctx):
        lay = params.layout
        x = inputs[0]
        nb = x.shape[0]
        seq = np.swapaxes(x, 1, 2) if lay.time_major else x  # (B, batch, steps, input)
        seq = seq.reshape(nb * lay.batch, lay.steps, x.shape[-1])
        hidden, cell = inputs[HIDDEN_STATE], inputs[CELL_STATE]
        h = hidden.reshape(nb * lay.batch, lay.units).copy()
        c = cell.reshape(nb * lay.batch, lay.units).copy()
        if isinstance(params, LstmFloatParams):
            out = self._run_float(params, seq, h, c)
        else:
            out = self._run_int(params, seq, h, c)
        hidden[...] = h.reshape(hidden.shape)
        cell[...] = c.reshape(cell.shape)
        out = out.reshape(nb, lay.batch, lay.steps, lay.units)
        return [np.swapaxes(out, 1, 2) if lay.time_major else out]

    @staticmethod
    def _run_int(p: LstmIntParams, seq: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Integer steps; ``h`` (int8) and ``c`` (int16) are updated in place.

        The int16 sigmoid / tanh are table lookups of the LUT functions. The gate sum of two
        int16-clamped FC outputs lies in [-65536, 65534]; the gate tables are indexed by that sum
        directly (their ends repeat the saturated values), which is the clamp TFLM applies."""
        rows, steps, _ = seq.shape
        u = p.layout.units
        w_input, w_recurrent = p.matmul_w_input, p.matmul_w_recurrent
        xs = seq.astype(w_input.dtype) - w_input.dtype.type(p.input_zp)
        acc = wrap_int32((xs @ w_input).astype(np.int64) + p.bias)
        gates_in = _clamp(multiply_by_quantized_multiplier(acc, *p.input_mult), -32768, 32767)
        gates_in += _GATE_OFFSET
        out = np.empty((rows, steps, u), np.int8)
        rec_type = w_recurrent.dtype.type
        hidden_zp = rec_type(p.hidden_zp)
        cell_lo, cell_hi = (-p.cell_clip, p.cell_clip) if p.cell_clip else (-32768, 32767)
        cell = c.astype(np.int64)
        for t in range(steps):
            acc = ((h.astype(rec_type) - hidden_zp) @ w_recurrent).astype(np.int64)
            index = _clamp(multiply_by_quantized_multiplier(acc, *p.recurrent_mult), -32768, 32767)
            index += gates_in[:, t]
            act = p.sigmoid_table[index]  # forget, input, (cell), output
            cand = p.tanh_table[index[:, 2 * u:3 * u]]
            kept = _clamp(multiply_by_quantized_multiplier(act[:, :u] * cell, *p.forget_mult),
                          -32768, 32767)
            new = _clamp(multiply_by_quantized_multiplier(act[:, u:2 * u] * cand,
                                                          *p.input_cell_mult), -32768, 32767)
            cell = _clamp(kept + new, cell_lo, cell_hi)
            squashed = p.cell_tanh_table[cell + 32768]
            hid = multiply_by_quantized_multiplier(squashed * act[:, 3 * u:], *p.hidden_mult)
            hid += p.hidden_zp
            h[...] = _clamp(hid, -128, 127)
            out[:, t] = h
        c[...] = cell
        return out

    @staticmethod
    def _run_float(p: LstmFloatParams, seq: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Float steps in TFLM's operation order; ``h`` and ``c`` are updated in place."""
        rows, steps, n_in = seq.shape
        u = p.layout.units
        big = np.float32(np.finfo(np.float32).max)
        total = np.zeros((rows, steps, 4 * u), np.float32)
        product = np.empty_like(total)
        for d in range(n_in):
            np.multiply(seq[:, :, d:d + 1], p.w_input[:, d], out=product)
            total += product
        gates_in = np.clip(total + p.bias, -big, big)
        out = np.empty((rows, steps, u), np.float32)
        clip = np.float32(p.cell_clip)
        total = np.empty((rows, 4 * u), np.float32)
        product = np.empty((rows, 4 * u), np.float32)
        for t in range(steps):
            total.fill(0)
            for d in range(u):
                np.multiply(h[:, d:d + 1], p.w_recurrent[:, d], out=product)
                total += product
            gates = gates_in[:, t] + np.clip(total + np.float32(0), -big, big)
            act = float_logistic(gates)  # forget, input, -, output
            cand = tanhf(gates[:, 2 * u:3 * u])
            cell = np.clip(act[:, :u] * c, -big, big) + np.clip(act[:, u:2 * u] * cand, -big, big)
            if p.cell_clip > 0:
                cell = np.where(cell < clip, cell, clip)
                cell = np.where(cell < -clip, -clip, cell)
            c[...] = cell
            h[...] = np.clip(tanhf(cell) * act[:, 3 * u:], -big, big)
            out[:, t] = h
        return out


def _clamp(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Clamp in place (two ufunc calls; cheaper than np.clip on small arrays)."""
    np.maximum(x, lo, out=x)
    return np.minimum(x, hi, out=x)
