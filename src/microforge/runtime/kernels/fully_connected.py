"""FULLY_CONNECTED, as TFLM's ``fully_connected.cc`` computes it.

The input is read as a ``(batches, accum_depth)`` matrix whatever its rank: ``output_depth`` is the
output tensor's last dimension, ``batches`` the output size divided by it, ``accum_depth`` the
filter's last dimension (``keep_num_dims`` only shapes the output tensor, which is static).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microforge import fixedpoint as fp
from microforge.ir import Activation, Tensor
from microforge.runtime.kernels.common import (
    activation_range_float,
    activation_range_quantized,
)
from microforge.runtime.registry import Kernel, OpContext, register

_SCHEMA_INT32 = 2  # TensorType.INT32, the value of quantized_bias_type asking for int32 accumulators
_F32_EXACT = 1 << 24
_F64_EXACT = 1 << 53
_FLOAT_BLOCK = 1 << 20  # float products materialised at once by the float kernel
_LOWEST = np.float32(np.finfo(np.float32).min)
_HIGHEST = np.float32(np.finfo(np.float32).max)


@dataclass
class FullyConnectedQuantParams:
    """int8 / int16 FULLY_CONNECTED parameters (TFLM ``OpDataFullyConnected``, as
    ``FullyConnectedPrepare`` / ``CalculateOpDataFullyConnected`` compute them).

    ``weights``: (accum_depth, output_depth) int8 or unpacked int4 weights minus a per-tensor
    weight zero point, as int16 (int64 if such a zero point takes them beyond). ``constant``: per
    output, the bias plus ``-input_zero_point * sum(weights)`` (int64, the folded input offset).
    ``multiplier`` / ``shift``: Q31 multipliers and shifts of ``s_in * s_w / s_out``, one or one
    per output channel.
    ``int64_accumulator``: 16x8 with an int64 bias (64-bit ``MultiplyByQuantizedMultiplier``).
    ``act_min`` / ``act_max``: the clamp in the output's integer domain. ``rows``: input rows per
    sample; ``out_shape`` / ``dtype``: the output tensor's shape and type. Runtime only (not read
    by the C backend): ``matmul_weights``, ``weights`` in the exact BLAS dtype."""

    weights: np.ndarray
    constant: np.ndarray
    int64_accumulator: bool
    multiplier: np.ndarray
    shift: np.ndarray
    output_zero_point: int
    act_min: int
    act_max: int
    rows: int
    out_shape: tuple[int, ...]
    dtype: np.dtype
    matmul_weights: np.ndarray = field(repr=False, compare=False)


@dataclass
class FullyConnectedFloatParams:
    """float32 FULLY_CONNECTED parameters.

    ``weights``: (accum_depth, max(output_depth, 2)) float32 (a zero second column when the depth
    is 1, for the runtime's summation order). ``bias``: (output_depth,) float32, zeros without a
    bias tensor. ``act_min`` / ``act_max``: the fused-activation clamp (+-FLT_MAX without one).
    ``rows``: input rows per sample; ``out_shape``: the output tensor's shape."""

    weights: np.ndarray
    bias: np.ndarray
    act_min: np.float32
    act_max: np.float32
    rows: int
    out_shape: tuple[int, ...]


def unpack_int4(packed: np.ndarray, count: int) -> np.ndarray:
    """TFLM ``UnpackDenseInt4IntoInt8``: low nibble first, each nibble sign-extended."""
    b = np.asarray(packed, dtype=np.uint8).astype(np.int16)
    low = ((b & 0x0F) ^ 0x08) - 0x08
    high = ((b >> 4) ^ 0x08) - 0x08
    return np.stack([low, high], axis=-1).reshape(-1)[:count].astype(np.int8)


def matmul_dtype(max_abs_input: int, weights: np.ndarray) -> np.dtype:
    """The cheapest exact dtype for ``inputs @ weights`` on integers: every partial sum of the
    product is bounded by ``max_abs_input * max_column(sum |w|)``; float32 BLAS is exact below
    2**24, float64 below 2**53, beyond that int64."""
    col_sums = np.abs(weights.astype(np.int64)).sum(axis=0) if weights.size else np.zeros(1, np.int64)
    bound = max_abs_input * int(col_sums.max(initial=0))
    if bound < _F32_EXACT:
        return np.dtype(np.float32)
    if bound < _F64_EXACT:
        return np.dtype(np.float64)
    return np.dtype(np.int64)


@register("FULLY_CONNECTED")
class FullyConnected(Kernel):
    """TFLM FULLY_CONNECTED (reference kernels) for float32, int8 (int8 or packed int4 weights,
    per-tensor or per-channel scales) and int16 activations with int8 weights (int32 or int64 bias;
    without a bias the ``quantized_bias_type`` option picks the accumulator as in TFLM).

    Quantized: ``acc = sum_k (w + w_offset) * (x + x_offset) + bias`` (per-channel: no weight
    offset), wrapping like int32 unless the accumulator is int64 (int16 with int64 or absent
    bias), then ``MultiplyByQuantizedMultiplier`` (the double-rounding int32 version, or the Q15
    int64 version for int64 accumulators), output zero point, clamp to the fused activation range.
    The per-tensor multiplier is ``double(float(s_in * s_w)) / s_out``, the per-channel one
    ``double(s_in) * s_w[c] / s_out``, both as TFLM computes them; a bias scale too far from
    ``s_in * s_w`` is refused like TFLM does. TANH / SIGN_BIT fused activations clamp nothing, as
    in TFLM. The batched product is one matmul, exact by the bound in :func:`matmul_dtype`
    (the input offset is folded into the constant term, so |x| <= 128 or 32768 bounds it).

    Float32: ``total += x * w`` in order over the accumulation axis with float32 rounding at every
    step (TFLM's loop, no FMA), then ``total + bias`` (0.0 without bias) and the clamp
    ``min(max(v, lo), hi)`` with C++ ``std::max``/``std::min`` semantics (so -0.0 survives RELU,
    NaN passes, and +-inf clamp to +-FLT_MAX without activation).

    Tests: oracle parity for every dtype/weight combination, every activation, no bias,
    keep_num_dims, rank-4 input, int32 wrap-around, the shared models.
    """

    def prepare(self, ctx: OpContext) -> FullyConnectedQuantParams | FullyConnectedFloatParams:
        x, w, bias, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.output()
        if x.dtype != out.dtype:
            raise ctx.unsupported(f"input {x.dtype} and output {out.dtype} differ")
        if w.data is None:
            raise ctx.unsupported("non-constant weights are not supported")
        depth = out.shape[-1] if out.shape else 1
        accum = w.shape[-1]
        rows = out.size // max(depth, 1)
        if rows * accum != x.size or w.size // max(accum, 1) < depth:
            raise ctx.unsupported(
                f"shapes do not fit: input {x.shape}, weights {w.shape}, output {out.shape}")
        act = int(ctx.options.get("fused_activation_function", Activation.NONE))
        if x.dtype == np.float32:
            return self._prepare_float(ctx, w, bias, depth, accum, rows, out, act)
        if x.dtype not in (np.int8, np.int16):
            raise ctx.unsupported(f"input type {x.dtype} is not supported")
        return self._prepare_quantized(ctx, x, w, bias, out, depth, accum, rows, act)

    @staticmethod
    def _prepare_float(ctx, w, bias, depth, accum, rows, out, act) -> FullyConnectedFloatParams:
        if w.dtype != np.float32 or (bias is not None and bias.dtype != np.float32):
            raise ctx.unsupported("float32 input needs float32 weights and bias")
        if w.size != depth * accum:
            raise ctx.unsupported(f"weights {w.shape} do not match output depth {depth}")
        lo, hi = (activation_range_float(act) if act in _CLAMPING else (_LOWEST, _HIGHEST))
        weights = w.data.reshape(depth, accum).T
        if depth == 1:  # a second (zero) column keeps the float reduction axis non-contiguous
            weights = np.concatenate([weights, np.zeros_like(weights)], axis=1)
        weights = np.ascontiguousarray(weights)
        b = np.zeros(depth, np.float32) if bias is None else bias.data.reshape(-1)[:depth]
        return FullyConnectedFloatParams(weights, b.astype(np.float32), np.float32(lo), np.float32(hi),
                                         rows, out.shape)

    @staticmethod
    def _prepare_quantized(ctx, x, w, bias, out, depth, accum, rows, act) -> FullyConnectedQuantParams:
        w_values = _weights_as_int(ctx, x, w)
        wq = w.quant
        if wq is None or not wq.is_quantized or x.quant is None or out.quant is None:
            raise ctx.unsupported("quantized FULLY_CONNECTED needs scales on input, weights, output")
        in_scale, out_scale = np.float32(x.scale), np.float32(out.scale)
        per_channel = wq.scale.size > 1
        matrix = w_values.reshape(-1, accum)[:depth].astype(np.int64)
        if per_channel:
            if w.type_name == "INT4" or wq.scale.size != w.shape[wq.axis]:
                raise ctx.unsupported("per-channel scales must be int8 weights along the output axis")
            real = [float(in_scale) * float(s) / float(out_scale) for s in wq.scale[:depth]]
            multiplier, shift = fp.quantize_multiplier_array(np.array(real, np.float64))
        else:
            _check_bias_scale(ctx, in_scale, np.float32(w.scale), bias, out_scale)
            real = float(np.float32(in_scale * np.float32(w.scale))) / float(out_scale)
            q, s = fp.quantize_multiplier(real)
            multiplier, shift = np.array([q], np.int64), np.array([s], np.int64)
            matrix = matrix - w.zero_point
        if bias is not None and bias.data is None:
            raise ctx.unsupported("non-constant bias is not supported")
        if x.dtype == np.int8:
            if bias is not None and bias.dtype != np.int32:
                raise ctx.unsupported(f"int8 FULLY_CONNECTED needs an int32 bias, not {bias.dtype}")
            int64_acc = False
        elif bias is not None:
            if bias.dtype not in (np.int32, np.int64):
                raise ctx.unsupported(f"int16 FULLY_CONNECTED needs an int32/int64 bias, not {bias.dtype}")
            int64_acc = bias.dtype == np.int64
        else:
            int64_acc = int(ctx.options.get("quantized_bias_type", 0)) != _SCHEMA_INT32
        b = np.zeros(depth, np.int64) if bias is None else bias.data.reshape(-1)[:depth].astype(np.int64)
        constant = b - x.zero_point * matrix.sum(axis=1)
        if act in _CLAMPING:
            act_min, act_max = activation_range_quantized(act, out)
        else:
            info = np.iinfo(out.dtype)
            act_min, act_max = int(info.min), int(info.max)
        max_abs = -int(np.iinfo(x.dtype).min)
        mm = matmul_dtype(max_abs, matrix.T)
        return FullyConnectedQuantParams(
            weights=np.ascontiguousarray(matrix.T.astype(_narrowest(matrix))),
            constant=constant,
            int64_accumulator=int64_acc,
            multiplier=multiplier,
            shift=shift,
            output_zero_point=out.zero_point,
            act_min=act_min,
            act_max=act_max,
            rows=rows,
            out_shape=out.shape,
            dtype=out.dtype,
            matmul_weights=np.ascontiguousarray(matrix.T.astype(mm)),
        )

    def eval(self, params, inputs, ctx):
        x = inputs[0]
        batch = x.shape[0]
        flat = x.reshape(batch * params.rows, params.weights.shape[0])
        if isinstance(params, FullyConnectedFloatParams):
            out = _float_fc(flat, params)
        else:
            out = _quantized_fc(flat, params)
        return [out.reshape((batch,) + params.out_shape)]


_CLAMPING = (Activation.NONE, Activation.RELU, Activation.RELU_N1_TO_1, Activation.RELU6)


def _weights_as_int(ctx: OpContext, x: Tensor, w: Tensor) -> np.ndarray:
    if w.type_name == "INT4":
        if x.dtype != np.int8:
            raise ctx.unsupported("int4 weights need int8 input")
        return unpack_int4(w.data, w.size).reshape(w.shape)
    if w.dtype != np.int8:
        raise ctx.unsupported(f"{x.dtype} input with {w.dtype} weights is not supported")
    return w.data


def _narrowest(values: np.ndarray) -> type:
    """int16 when every value fits it, else int64."""
    return np.int16 if np.abs(values).max(initial=0) < 1 << 15 else np.int64


def _check_bias_scale(ctx: OpContext, in_scale, w_scale, bias: Tensor | None, out_scale) -> None:
    """``GetQuantizedConvolutionMultipler``'s guard: bias scale within 2% of an output step."""
    if bias is None or bias.quant is None or not bias.quant.is_quantized:
        return
    product = float(in_scale) * float(w_scale)
    if abs(product - float(np.float32(bias.scale))) / float(out_scale) > 0.02:
        raise ctx.unsupported("bias scale does not match input scale * weight scale (TFLM refuses it)")


def _quantized_fc(flat: np.ndarray, p: FullyConnectedQuantParams) -> np.ndarray:
    product = flat.astype(p.matmul_weights.dtype) @ p.matmul_weights
    acc = product.astype(np.int64) + p.constant
    if p.int64_accumulator:
        scaled = fp.multiply_by_quantized_multiplier_int64(acc, p.multiplier, p.shift)
    else:
        scaled = fp.multiply_by_quantized_multiplier(fp.wrap_int32(acc), p.multiplier, p.shift)
    return np.clip(scaled + p.output_zero_point, p.act_min, p.act_max).astype(p.dtype)


def _float_fc(flat: np.ndarray, p: FullyConnectedFloatParams) -> np.ndarray:
    """TFLM's float loop: for each output, ``total = ((0 + x0*w0) + x1*w1) + ...`` in float32.

    The products of a block of the accumulation axis are laid out as ``(k, rows, columns)`` and
    summed with ``np.add.reduce(axis=0)``; numpy reduces an outer (non-contiguous) axis strictly in
    index order (pairwise summation applies only along the contiguous axis), and the weights have
    at least two columns (see prepare) so that axis is never the contiguous one. Each block starts
    from the running total, so the order is exactly TFLM's."""
    rows = flat.shape[0]
    accum, columns = p.weights.shape
    xt = np.ascontiguousarray(flat.T)
    total = np.zeros((rows, columns), np.float32)
    block = max(1, _FLOAT_BLOCK // max(rows * columns, 1))
    with np.errstate(over="ignore", invalid="ignore"):
        for k0 in range(0, accum, block):
            k1 = min(accum, k0 + block)
            terms = np.empty((k1 - k0 + 1, rows, columns), np.float32)
            terms[0] = total
            np.multiply(xt[k0:k1, :, None], p.weights[k0:k1, None, :], out=terms[1:])
            total = np.add.reduce(terms, axis=0)
        total = total[:, : p.bias.size] + p.bias
    total = np.where(total < p.act_min, p.act_min, total)
    return np.where(p.act_max < total, p.act_max, total).astype(np.float32)
