"""Elementwise binary operators: ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE.

Broadcasting follows TFLM's ``BroadcastBinaryOpSimple``: shapes are right-aligned (numpy rules) up to
any rank. In ``eval`` both operands are first given the same rank behind their batch axis, so a
``(1,) + S`` constant broadcasts against a ``(B,) + T`` activation exactly like the tensors do.
Every output element depends only on its two operand elements, so per-element results equal TFLM's
whatever its loop order.

Integer intermediate values are computed in int64 and wrapped to int32 where the C code would wrap;
float32 arithmetic is done in float32 (one rounding per C operation, no fused multiply-add).
Quantized int8 variants are evaluated through a 256 x 256 table holding ``compute``'s own result for
every operand pair (built in prepare), so eval is one gather.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.fixedpoint import (
    count_leading_sign_bits,
    get_reciprocal,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    quantize_multiplier_smaller_than_one,
    rounding_divide_by_pot_any,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)
from microforge.ir import Activation, Tensor
from microforge.runtime import native
from microforge.runtime.kernels.common import activation_range_quantized
from microforge.runtime.registry import Kernel, OpContext, register

_NATIVE_MIN = 4096  # elements from which the compiled table lookup beats numpy's call overhead

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
F32_MAX = float(np.finfo(np.float32).max)


def is_quantized(t: Tensor) -> bool:
    return t.quant is not None and t.quant.is_quantized


def plain_range(activation: int, lowest: float, highest: float) -> tuple[float, float]:
    """``CalculateActivationRange<T>`` (float32 or int32): unknown activations do not clamp."""
    if activation == Activation.RELU:
        return 0, highest
    if activation == Activation.RELU6:
        return 0, 6
    if activation == Activation.RELU_N1_TO_1:
        return -1, 1
    return lowest, highest


def clamp_float(x: np.ndarray, lo: np.float32, hi: np.float32) -> np.ndarray:
    """``ActivationFunctionWithMinMax<float>``: ``min(max(x, lo), hi)`` with std::min/max semantics
    (NaN passes through, -0.0 is kept, infinities clamp to the range)."""
    x = np.where(x < lo, lo, x)
    return np.where(hi < x, hi, x).astype(np.float32)


@dataclass
class BinaryParams:
    """Parameters of a binary operator (TFLM's ``OpDataAdd`` / ``OpDataSub`` / ``OpDataMul`` /
    ``OpDataDiv`` ..., as their Prepare computes them).

    ``kind`` is the variant: "quant" (int8/int16 rescaling), "float", "int32" or "select"
    (MAXIMUM / MINIMUM). ``rank`` / ``out_shape``: the broadcast rank and the output shape.
    ``zp1``, ``zp2``, ``zpo``: zero points of input 1, input 2 and the output; ``left_shift``:
    the ADD / SUB input left shift (20 for int8, 15 for int16); ``m1``, ``m2``, ``mo``: Q31
    (multiplier, shift) pairs of input 1, input 2 and the output; ``lo`` / ``hi``: the clamp range
    of the fused activation (output integer domain, or float32 / int32 values). ``table``: int8
    "quant" variants only, the result for every operand pair (index ``byte1 << 8 | byte2``), a
    runtime lookup computed from the fields above."""

    rank: int
    out_shape: tuple[int, ...]
    kind: str
    lo: float = 0
    hi: float = 0
    left_shift: int = 0
    zp1: int = 0
    zp2: int = 0
    zpo: int = 0
    m1: tuple[int, int] = (0, 0)
    m2: tuple[int, int] = (0, 0)
    mo: tuple[int, int] = (0, 0)
    table: np.ndarray | None = None


def _align(x: np.ndarray, rank: int) -> np.ndarray:
    extra = rank - (x.ndim - 1)
    return x.reshape((x.shape[0],) + (1,) * extra + x.shape[1:]) if extra > 0 else x


def _activation(ctx: OpContext) -> int:
    return int(ctx.options.get("fused_activation_function") or Activation.NONE)


class BinaryKernel(Kernel):
    """Shared shape handling; subclasses implement ``prepare_kind`` (filling ``BinaryParams``) and
    ``compute``."""

    dtypes: tuple[type, ...] = (np.float32, np.int8, np.int16, np.int32)

    def prepare(self, ctx: OpContext) -> BinaryParams:
        a, b, out = ctx.input(0), ctx.input(1), ctx.output()
        if a is None or b is None:
            raise ctx.unsupported("needs two inputs")
        if not (a.dtype == b.dtype == out.dtype):
            raise ctx.unsupported(f"mixed types {a.dtype}, {b.dtype} -> {out.dtype}")
        if out.dtype not in [np.dtype(d) for d in self.dtypes]:
            raise ctx.unsupported(f"type {out.dtype} is not supported")
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ctx.unsupported(f"shapes {a.shape} and {b.shape} do not broadcast") from None
        if int(np.prod(shape)) != out.size:
            raise ctx.unsupported(f"broadcast shape {shape} does not fit output {out.shape}")
        p = BinaryParams(max(len(a.shape), len(b.shape)), out.shape, "")
        self.prepare_kind(ctx, p, a, b, out)
        if p.kind == "quant" and not all(is_quantized(t) for t in (a, b, out)):
            raise ctx.unsupported("int8 / int16 operands need quantization parameters")
        if out.dtype == np.int8 and p.kind == "quant":
            p.table = self._pair_table(p)
        return p

    def _pair_table(self, p: BinaryParams) -> np.ndarray:
        """The int8 result for every pair of int8 operands, computed once by ``compute`` itself and
        indexed by the operands' byte patterns: eval becomes one gather."""
        u = np.arange(256, dtype=np.uint8).view(np.int8)
        with np.errstate(all="ignore"):
            return self.compute(p, u.reshape(1, 256, 1), u.reshape(1, 1, 256)).reshape(-1)

    def prepare_kind(self, ctx: OpContext, p: BinaryParams, a: Tensor, b: Tensor, out: Tensor) -> None:
        raise NotImplementedError

    def compute(self, p: BinaryParams, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def eval(self, params: BinaryParams, inputs, ctx):
        x, y = _align(inputs[0], params.rank), _align(inputs[1], params.rank)
        if params.table is not None:
            out = None
            if x.shape == y.shape and x.size >= _NATIVE_MIN:  # one compiled pass (``native.py``)
                out = native.table2(x, y, params.table)
            if out is None:
                index = (x.view(np.uint8).astype(np.uint16) << 8) | y.view(np.uint8)
                out = params.table[index]
        else:
            with np.errstate(all="ignore"):  # float overflow / NaN are results here, as in C
                out = self.compute(params, x, y)
        return [out.reshape((out.shape[0],) + params.out_shape)]


def _smaller_than_one(ctx: OpContext, real: float) -> tuple[int, int]:
    """``QuantizeMultiplierSmallerThanOneExp``, whose checks (0 < real < 1, shift <= 0) abort TFLM."""
    if not 0.0 < real < 1.0:
        raise ctx.unsupported(f"multiplier {real} is not in (0, 1)")
    try:
        return quantize_multiplier_smaller_than_one(real)
    except ValueError as exc:
        raise ctx.unsupported(str(exc)) from None


def _quant_range(ctx: OpContext, p: BinaryParams) -> None:
    """``CalculateActivationRangeQuantized``; activations other than the RELUs do not clamp."""
    act = _activation(ctx)
    info = np.iinfo(ctx.output().dtype)
    p.lo, p.hi = int(info.min), int(info.max)
    if act in (Activation.RELU, Activation.RELU6, Activation.RELU_N1_TO_1):
        p.lo, p.hi = activation_range_quantized(act, ctx.output())


def _rescaled_inputs(ctx: OpContext, p: BinaryParams, a: Tensor, b: Tensor, out: Tensor,
                     left_shift: int) -> float:
    """Offsets and input multipliers ``s_i / (2 max_s)`` (double precision) of the ADD / SUB /
    SQUARED_DIFFERENCE rescaling; returns ``2 max_s``."""
    s1, s2 = float(np.float32(a.scale)), float(np.float32(b.scale))
    twice = 2.0 * max(s1, s2)
    p.kind, p.left_shift = "quant", left_shift
    p.zp1, p.zp2, p.zpo = a.zero_point, b.zero_point, out.zero_point
    p.m1, p.m2 = _smaller_than_one(ctx, s1 / twice), _smaller_than_one(ctx, s2 / twice)
    return twice


def _prepare_add_sub(ctx: OpContext, p: BinaryParams, a: Tensor, b: Tensor, out: Tensor) -> None:
    """``CalculateOpDataAdd``: left shift 20 (int8) or 15 (int16), multipliers in double, output
    multiplier ``2 max_s / (2^left_shift s_out)``.

    Older ``sub_common.cc`` sources compute the SUB multipliers in float32; the tflite-micro build
    used as the oracle matches the double computation (measured), so both ops use it."""
    left_shift = 15 if out.dtype == np.int16 else 20
    twice = _rescaled_inputs(ctx, p, a, b, out, left_shift)
    p.mo = _smaller_than_one(ctx, twice / ((1 << left_shift) * float(np.float32(out.scale))))
    _quant_range(ctx, p)


def rescale(x: np.ndarray, zp: int, left_shift: int, m: tuple[int, int]) -> np.ndarray:
    """One input of ADD / SUB / SQUARED_DIFFERENCE on the common scale:
    ``MultiplyByQuantizedMultiplier((x - zp) << left_shift, m)`` (TFLM's ``...SmallerThanOneExp``
    with its shift <= 0), int64 values."""
    shifted = (x.astype(np.int64) - zp) << left_shift
    return multiply_by_quantized_multiplier(shifted, m[0], m[1])


def _requantize(p: BinaryParams, raw: np.ndarray, dtype: np.dtype) -> np.ndarray:
    out = multiply_by_quantized_multiplier(raw, *p.mo) + p.zpo
    return np.clip(out, p.lo, p.hi).astype(dtype)


def _add_sub_quantized(p: BinaryParams, x: np.ndarray, y: np.ndarray, sign: int) -> np.ndarray:
    s1 = rescale(x, p.zp1, p.left_shift, p.m1)
    s2 = rescale(y, p.zp2, p.left_shift, p.m2)
    return _requantize(p, wrap_int32(s1 + sign * s2), x.dtype)


def _prepare_plain(ctx: OpContext, p: BinaryParams, a: Tensor, b: Tensor, out: Tensor,
                   clamp_int32: bool = True) -> None:
    """The float32 / int32 variants: only the fused-activation clamp range. TFLM rejects
    quantized int32 inputs."""
    act = _activation(ctx)
    if out.dtype == np.float32:
        p.kind = "float"
        p.lo, p.hi = (np.float32(v) for v in plain_range(act, -F32_MAX, F32_MAX))
        return
    if is_quantized(a) or is_quantized(b):
        raise ctx.unsupported("int32 inputs must not be quantized")
    p.kind = "int32"
    p.lo, p.hi = plain_range(act if clamp_int32 else Activation.NONE, INT32_MIN, INT32_MAX)


def _int32_result(p: BinaryParams, v: np.ndarray) -> np.ndarray:
    return np.clip(wrap_int32(v), p.lo, p.hi).astype(np.int32)


@register("ADD")
class Add(BinaryKernel):
    """ADD as TFLM's ``add.cc``.

    * int8 / int16: ``reference_integer_ops::Add`` / ``reference_ops::AddGeneralParamScale`` (TFLM
      always takes the general-scale path, ``pot_scale_int16`` is ignored): each input is offset,
      shifted left by 20 (int8) or 15 (int16), rescaled with its own multiplier
      (``MultiplyByQuantizedMultiplierSmallerThanOneExp``), summed, rescaled by the output
      multiplier, offset and clamped to the fused activation range. Multipliers in double.
    * float32: ``a + b`` clamped to the activation range (NONE clamps to +-FLT_MAX).
    * int32 (unquantized only): wrapping ``a + b``; TFLM ignores the fused activation here.

    Tests: every dtype, broadcasting (scalar, inner, outer, rank-mismatched, 5-D), each activation,
    random scales, the simple_add_model and the audio preprocessor's int32 ADDs.
    """

    def prepare_kind(self, ctx, p, a, b, out):
        if out.dtype in (np.int8, np.int16):
            _prepare_add_sub(ctx, p, a, b, out)
        else:
            _prepare_plain(ctx, p, a, b, out, clamp_int32=False)

    def compute(self, p, x, y):
        if p.kind == "quant":
            return _add_sub_quantized(p, x, y, +1)
        if p.kind == "float":
            return clamp_float(x + y, p.lo, p.hi)
        return _int32_result(p, x.astype(np.int64) + y)


@register("SUB")
class Sub(BinaryKernel):
    """SUB as TFLM's ``sub.cc``.

    * int8 / int16: as ADD but subtracting (same double-precision multipliers, left shift 20 / 15).
    * float32: ``a - b`` clamped to the activation range.
    * int32 (unquantized only): wrapping ``a - b`` clamped to ``CalculateActivationRange<int32>``.

    Tests: every dtype, broadcasting both ways, activations, random scales.
    """

    def prepare_kind(self, ctx, p, a, b, out):
        if out.dtype in (np.int8, np.int16):
            _prepare_add_sub(ctx, p, a, b, out)
        else:
            _prepare_plain(ctx, p, a, b, out)

    def compute(self, p, x, y):
        if p.kind == "quant":
            return _add_sub_quantized(p, x, y, -1)
        if p.kind == "float":
            return clamp_float(x - y, p.lo, p.hi)
        return _int32_result(p, x.astype(np.int64) - y)


@register("MUL")
class Mul(BinaryKernel):
    """MUL as TFLM's ``mul.cc``.

    * int8 / int16: ``(x1 - zp1) * (x2 - zp2)`` rescaled by ``MultiplyByQuantizedMultiplier`` with
      the double multiplier ``s1 * s2 / s_out``, offset, clamped to the activation range. int16
      requires all zero points 0 (as TFLM).
    * float32: ``a * b`` clamped to the activation range.
    * int32: wrapping ``a * b`` clamped to ``CalculateActivationRange<int32>`` (any quantization
      of int32 tensors is ignored, as in TFLM).

    Tests: every dtype, broadcasting, activations, random scales, the audio preprocessor's MULs.
    """

    def prepare_kind(self, ctx, p, a, b, out):
        if out.dtype in (np.int8, np.int16):
            if out.dtype == np.int16 and (a.zero_point or b.zero_point or out.zero_point):
                raise ctx.unsupported("int16 MUL needs zero points 0")
            s1, s2, so = (float(np.float32(t.scale)) for t in (a, b, out))
            p.kind, p.mo = "quant", quantize_multiplier(s1 * s2 / so)
            p.zp1, p.zp2, p.zpo = a.zero_point, b.zero_point, out.zero_point
            _quant_range(ctx, p)
        elif out.dtype == np.float32:
            _prepare_plain(ctx, p, a, b, out)
        else:
            p.kind = "int32"
            p.lo, p.hi = plain_range(_activation(ctx), INT32_MIN, INT32_MAX)

    def compute(self, p, x, y):
        if p.kind == "quant":
            prod = wrap_int32((x.astype(np.int64) - p.zp1) * (y.astype(np.int64) - p.zp2))
            return _requantize(p, prod, x.dtype)
        if p.kind == "float":
            return clamp_float(x * y, p.lo, p.hi)
        return _int32_result(p, x.astype(np.int64) * y)


def _c_int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C integer division (truncation toward zero) on int64 arrays; a zero divisor gives 0."""
    safe = np.where(b == 0, 1, b)
    q = np.abs(a) // np.abs(safe)
    return np.where(b == 0, 0, np.where((a < 0) != (safe < 0), -q, q))


def _div_quantized(p: BinaryParams, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``DivElementwise``: the divisor's reciprocal from ``GetReciprocal`` (Newton-Raphson),
    the dividend normalised by its leading sign bits, then one rescale by the output multiplier
    with the combined shift (exponents beyond 31 as the x86-64 build evaluates them)."""
    a = x.astype(np.int64) - p.zp1
    b = y.astype(np.int64) - p.zp2
    a, b = np.where(b < 0, -a, a), np.abs(b)
    recip, recip_shift = get_reciprocal(b, 31)
    headroom = count_leading_sign_bits(a)
    unscaled = saturating_rounding_doubling_high_mul(wrap_int32(a << headroom), recip)
    total_shift = p.mo[1] - recip_shift - headroom
    scaled = saturating_rounding_doubling_high_mul(unscaled, p.mo[0])
    out = rounding_divide_by_pot_any(scaled, -total_shift) + p.zpo
    return np.clip(out, p.lo, p.hi).astype(x.dtype)


@register("DIV")
class Div(BinaryKernel):
    """DIV as TFLM's ``div.cc``.

    * int8: ``reference_ops::DivElementwise`` (see ``_div_quantized``) with the double multiplier
      ``s1 / (s2 * s_out)``, clamped to the activation range. A zero divisor follows the same
      arithmetic (TFLM has no check there either).
    * float32: IEEE ``a / b`` clamped to the activation range.
    * int32 (unquantized only): C ``a / b`` (truncating toward zero) clamped to
      ``CalculateActivationRange<int32>``. TFLM fails on a zero divisor and traps on
      INT32_MIN / -1; microforge returns 0 and INT32_MIN (the wrapped quotient) there.

    Tests: int8 over every pair of values with several scales (including the zero divisor),
    float32 and int32 with broadcasting and activations (integer divisors kept non-zero), float
    division by +-0, the audio preprocessor's DIV.
    """

    dtypes = (np.float32, np.int32, np.int8)

    def prepare_kind(self, ctx, p, a, b, out):
        if out.dtype != np.int8:
            _prepare_plain(ctx, p, a, b, out)
            return
        s1, s2, so = (float(np.float32(t.scale)) for t in (a, b, out))
        p.kind, p.mo = "quant", quantize_multiplier(s1 / (s2 * so))
        p.zp1, p.zp2, p.zpo = a.zero_point, b.zero_point, out.zero_point
        _quant_range(ctx, p)

    def compute(self, p, x, y):
        if p.kind == "quant":
            return _div_quantized(p, x, y)
        if p.kind == "float":
            return clamp_float(x / y, p.lo, p.hi)
        return _int32_result(p, _c_int_div(x.astype(np.int64), y.astype(np.int64)))


class MaxMin(BinaryKernel):
    """MAXIMUM / MINIMUM as TFLM's ``maximum_minimum.cc``: ``a > b ? a : b`` (``a < b ? a : b``)
    on the raw stored values, any quantization ignored (TFLM has no Prepare). float32, int8, int16,
    int32, int64. Tests: each dtype, broadcasting, NaN / -0.0 / inf operands in float."""

    dtypes = (np.float32, np.int8, np.int16, np.int32, np.int64)
    greater = True

    def prepare_kind(self, ctx, p, a, b, out):
        p.kind = "select"

    def compute(self, p, x, y):
        pick_x = (x > y) if self.greater else (x < y)
        return np.where(pick_x, x, y)


@register("MAXIMUM")
class Maximum(MaxMin):
    __doc__ = MaxMin.__doc__
    greater = True


@register("MINIMUM")
class Minimum(MaxMin):
    __doc__ = MaxMin.__doc__
    greater = False


@register("SQUARED_DIFFERENCE")
class SquaredDifference(BinaryKernel):
    """SQUARED_DIFFERENCE as TFLM's ``squared_difference.cc``.

    * int8: inputs offset, shifted left by 7, rescaled to twice the larger input scale
      (``MultiplyByQuantizedMultiplierSmallerThanOneExp``), the difference squared (int32, wrapping),
      rescaled by ``MultiplyByQuantizedMultiplier`` with ``(2 max_s)^2 / (2^14 s_out)`` (the
      denominator a float32 product), offset and clamped to int8.
    * int16: the same with left shift 0; all zero points must be 0.
    * float32: ``d = a - b; d * d``. int32: the same with wrapping arithmetic.

    Tests: each dtype, broadcasting, random scales.
    """

    def prepare_kind(self, ctx, p, a, b, out):
        if out.dtype not in (np.int8, np.int16):
            p.kind = "float" if out.dtype == np.float32 else "int32"
            return
        left_shift = 7 if out.dtype == np.int8 else 0
        if out.dtype == np.int16 and (a.zero_point or b.zero_point or out.zero_point):
            raise ctx.unsupported("int16 SQUARED_DIFFERENCE needs zero points 0")
        twice = _rescaled_inputs(ctx, p, a, b, out, left_shift)
        denom = float(np.float32(1 << (2 * left_shift)) * np.float32(out.scale))
        p.mo = quantize_multiplier(twice * twice / denom)
        info = np.iinfo(out.dtype)
        p.lo, p.hi = int(info.min), int(info.max)

    def compute(self, p, x, y):
        if p.kind == "quant":
            d = rescale(x, p.zp1, p.left_shift, p.m1) - rescale(y, p.zp2, p.left_shift, p.m2)
            return _requantize(p, wrap_int32(d * d), x.dtype)
        if p.kind == "float":
            d = x - y
            return d * d
        d = wrap_int32(x.astype(np.int64) - y)
        return wrap_int32(d * d).astype(np.int32)
