"""SVDF: a rank-decomposed filter over a sliding memory of past feature activations (stateful).

Per invoke, each filter's activation-state row (memory_size values, a variable tensor) shifts left
by one; the newest column receives ``weights_feature @ input``; each filter then takes the dot
product of its row with its ``weights_time`` row; the rank filters of each unit are summed onto the
bias; the result is the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microforge.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32
from microforge.ir import Activation
from microforge.runtime.kernels.common import tanhf
from microforge.runtime.registry import Kernel, OpContext, register

_F32_EXACT = 1 << 24  # float32 BLAS is exact while every partial sum is an integer below this


@dataclass
class SvdfShape:
    """SVDF dimensions: ``rank``, ``filters`` (= units * rank), ``units`` (outputs per batch row)
    and ``memory`` (the memory size, time steps kept per filter)."""

    rank: int
    filters: int
    units: int
    memory: int


@dataclass
class SvdfIntParams:
    """Integer SVDF parameters (TFLM ``OpDataSvdf``, as ``PrepareSvdf`` computes them).

    ``weights_feature``: (input_size, filters) int8, transposed. ``weights_time``: (filters,
    memory) int64 values of the int8 / int16 weights. ``bias``: (units,) int64. ``input_zp`` /
    ``state_zp`` / ``output_zp``: zero points; ``state_dtype``: int8 or int16. ``scale_1`` /
    ``scale_2``: Q31 (multiplier, shift) of ``s_in * s_wf / s_state`` (feature -> state) and
    ``s_state * s_wt / s_out`` (-> output). Runtime only (not read by the C backend):
    ``matmul_weights_feature``, the feature weights in the exact BLAS dtype."""

    shape: SvdfShape
    weights_feature: np.ndarray
    weights_time: np.ndarray
    bias: np.ndarray
    input_zp: int
    state_zp: int
    state_dtype: np.dtype
    scale_1: tuple[int, int]
    scale_2: tuple[int, int]
    output_zp: int
    matmul_weights_feature: np.ndarray = field(repr=False, compare=False)


@dataclass
class SvdfFloatParams:
    """float32 SVDF parameters: ``weights_feature`` (filters, input_size), ``weights_time``
    (filters, memory) and ``bias`` (units,) float32; ``activation``: the fused activation (schema
    value)."""

    shape: SvdfShape
    weights_feature: np.ndarray
    weights_time: np.ndarray
    bias: np.ndarray
    activation: int


def _float_activation(activation: int, x: np.ndarray) -> np.ndarray:
    """TFLM ``ActivationValFloat`` (fmax/fmin semantics for the clamps)."""
    f = np.float32
    if activation == Activation.NONE:
        return x
    if activation == Activation.RELU:
        return np.fmax(f(0), x)
    if activation == Activation.RELU_N1_TO_1:
        return np.fmax(f(-1), np.fmin(x, f(1)))
    if activation == Activation.RELU6:
        return np.fmax(f(0), np.fmin(x, f(6)))
    if activation == Activation.TANH:
        return tanhf(x)
    return np.signbit(x).astype(np.float32)


@register("SVDF")
class Svdf(Kernel):
    """TFLM ``svdf.cc`` / ``svdf_common.cc`` (reference kernels), for
    int8 input with int16 or int8 weights_time and activation state, and float32.

    Integer path (``EvalIntegerSvdfReference``):

    * feature: ``dot(weights_feature, input - input_zp)`` (int32), requantized with
      ``scale_1 = float32(s_in * s_wf / s_state)`` (MultiplyByQuantizedMultiplier, double
      rounding), clamped to the state dtype's range, THEN the state zero point is added and the
      sum is stored with a C integer conversion: for int8 state with a nonzero zero point the
      value wraps modulo 256 exactly like TFLM (the int16 variant has zero point 0).
    * time: ``sum_j weights_time[f, j] * (state[f, j] - state_zp)`` accumulated in int32 (wraps
      on overflow like the C; computed exactly in int64 then wrapped), plus the bias, plus the
      rank sum, requantized with ``scale_2 = float32(s_state * s_wt / s_out)``, plus the output
      zero point, clamped to int8. TFLM applies no fused activation on this path (only the int8
      clamp), and neither does this kernel. TFLM's prepare checks the bias scale against
      ``s_state * s_wt`` (1e-5), and so does this one. The bias is required (TFLM's SVDF crashes
      without one, in both paths).

    Float path (``EvalFloatSvdfReference``): float32 accumulation in TFLM's order (feature dot
    products over the input, time dot products over memory, bias then rank sums), no FMA, then
    the fused activation (tanh through glibc's tanhf).

    Exactness: the feature matmul runs in float32 when ``max|x - zp| * max_f sum|wf|`` < 2**24,
    else float64 (< 2**53 for any int8 model that fits int32).
    Tests: single-op models from keyword_scrambled (int16 state) and keyword_scrambled_8bit
    (int8 state, nonzero zero points) over sequences with resets; synthetic int8-state
    wrap-around, int16 time-accumulator overflow, rank 1 and 2, model batch 2, float activations.
    """

    def prepare(self, ctx: OpContext) -> SvdfIntParams | SvdfFloatParams:
        x, wf, wt, bias, state = (ctx.input(i) for i in range(5))
        out = ctx.output()
        if None in (x, wf, wt, state) or len(ctx.op.inputs) != 5:
            raise ctx.unsupported("SVDF needs input, weights_feature, weights_time, bias, state")
        if bias is None:
            raise ctx.unsupported("SVDF without bias (TFLM's SVDF cannot run it)")
        if not state.is_variable:
            raise ctx.unsupported("the activation state must be a variable tensor")
        if wf.data is None or wt.data is None or bias.data is None:
            raise ctx.unsupported("non-constant SVDF weights")
        rank = int(ctx.options.get("rank", 1))
        filters, memory = wf.shape[0], wt.shape[1]
        if len(x.shape) != 2 or len(out.shape) != 2 or rank <= 0 or filters % rank:
            raise ctx.unsupported(f"bad SVDF shapes (input {x.shape}, rank {rank})")
        shape = SvdfShape(rank, filters, filters // rank, memory)
        if (wf.shape[1] != x.shape[1] or wt.shape[0] != filters
                or state.shape != (x.shape[0], filters * memory)
                or out.shape != (x.shape[0], shape.units) or bias.shape != (shape.units,)):
            raise ctx.unsupported("inconsistent SVDF tensor shapes")
        activation = int(ctx.options.get("fused_activation_function", Activation.NONE))
        if x.dtype == np.float32:
            if not all(t.dtype == np.float32 for t in (wf, wt, bias, state, out)):
                raise ctx.unsupported("float SVDF needs float32 weights, bias and state")
            if activation not in tuple(Activation):
                raise ctx.unsupported(f"fused activation {activation}")
            return SvdfFloatParams(
                shape, np.asarray(wf.data, np.float32), np.asarray(wt.data, np.float32),
                np.asarray(bias.data, np.float32), activation,
            )
        return self._prepare_int(ctx, shape, x, wf, wt, bias, state, out)

    def _prepare_int(self, ctx, shape, x, wf, wt, bias, state, out) -> SvdfIntParams:
        if x.dtype != np.int8 or wf.dtype != np.int8 or out.dtype != np.int8:
            raise ctx.unsupported(f"SVDF with {x.dtype} input / {wf.dtype} weights_feature")
        if wt.dtype not in (np.int8, np.int16) or state.dtype not in (np.int8, np.int16):
            raise ctx.unsupported("weights_time and state must be int8 or int16")
        if wt.dtype != state.dtype:
            raise ctx.unsupported("weights_time and state dtypes differ")
        if bias.dtype != np.int32:
            raise ctx.unsupported("integer SVDF needs an int32 bias")
        for t in (x, wf, wt, bias, state, out):
            if t.quant is None or t.quant.per_channel:
                raise ctx.unsupported(f"tensor {t.name!r} must be per-tensor quantized")
        f32 = np.float32
        s_in, s_wf, s_wt = f32(x.scale), f32(wf.scale), f32(wt.scale)
        s_state, s_out, s_bias = f32(state.scale), f32(out.scale), f32(bias.scale)
        if abs(float(s_bias) - float(s_state * s_wt)) >= 1e-5:
            raise ctx.unsupported("bias scale differs from state scale * weights_time scale")
        weights = np.asarray(wf.data, np.int64)
        bound = 255 * int(np.abs(weights).sum(axis=1).max(initial=0))
        acc_dtype = np.float32 if bound < _F32_EXACT else np.float64
        return SvdfIntParams(
            shape=shape,
            weights_feature=weights.T.astype(np.int8),
            weights_time=np.asarray(wt.data, np.int64),
            bias=np.asarray(bias.data, np.int64),
            input_zp=x.zero_point,
            state_zp=state.zero_point,
            state_dtype=np.dtype(state.dtype),
            scale_1=quantize_multiplier(float(s_in * s_wf / s_state)),
            scale_2=quantize_multiplier(float(s_state * s_wt / s_out)),
            output_zp=out.zero_point,
            matmul_weights_feature=weights.T.astype(acc_dtype),
        )

    def eval(self, params, inputs, ctx):
        x, state = inputs[0], inputs[4]
        rows = x.shape[0] * x.shape[1]
        sh = params.shape
        memory = state.reshape(rows, sh.filters, sh.memory)
        if isinstance(params, SvdfFloatParams):
            out = self._eval_float(params, x.reshape(rows, -1), state, memory)
        else:
            out = self._eval_int(params, x.reshape(rows, -1), state, memory)
        return [out.reshape(x.shape[0], x.shape[1], sh.units)]

    @staticmethod
    def _shift_in(state: np.ndarray, memory: np.ndarray, newest: np.ndarray) -> np.ndarray:
        """Shift every filter's memory left by one and append ``newest``; updates ``state``."""
        shifted = np.empty_like(memory)
        shifted[:, :, :-1] = memory[:, :, 1:]
        shifted[:, :, -1] = newest
        state[...] = shifted.reshape(state.shape)
        return shifted

    def _eval_int(
        self, p: SvdfIntParams, x: np.ndarray, state: np.ndarray, memory: np.ndarray
    ) -> np.ndarray:
        sh = p.shape
        weights = p.matmul_weights_feature
        xs = x.astype(weights.dtype) - weights.dtype.type(p.input_zp)
        feature = (xs @ weights).astype(np.int64)
        feature = multiply_by_quantized_multiplier(feature, *p.scale_1)
        info = np.iinfo(p.state_dtype)
        newest = (np.clip(feature, info.min, info.max) + p.state_zp).astype(p.state_dtype)
        shifted = self._shift_in(state, memory, newest)
        time = ((shifted.astype(np.int64) - p.state_zp) * p.weights_time).sum(axis=2)
        acc = p.bias + time.reshape(-1, sh.units, sh.rank).sum(axis=2)
        acc = multiply_by_quantized_multiplier(wrap_int32(acc), *p.scale_2) + p.output_zp
        return np.clip(acc, -128, 127).astype(np.int8)

    def _eval_float(
        self, p: SvdfFloatParams, x: np.ndarray, state: np.ndarray, memory: np.ndarray
    ) -> np.ndarray:
        sh = p.shape
        feature = np.zeros((x.shape[0], sh.filters), np.float32)
        for k in range(x.shape[1]):
            feature = feature + p.weights_feature[:, k] * x[:, k:k + 1]
        shifted = self._shift_in(state, memory, feature)
        scratch = np.zeros((x.shape[0], sh.filters), np.float32)
        for j in range(sh.memory):
            scratch = scratch + p.weights_time[:, j] * shifted[:, :, j]
        scratch = scratch.reshape(-1, sh.units, sh.rank)
        out = np.repeat(p.bias[None], x.shape[0], axis=0)
        for r in range(sh.rank):
            out = out + scratch[:, :, r]
        return _float_activation(p.activation, out)
