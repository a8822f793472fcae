"""LOGISTIC and TANH, as TFLM's ``logistic_common.cc`` / ``tanh.cc`` prepare them and the reference
kernels compute them.

Integer inputs take at most 65536 values, so prepare evaluates TFLM's integer algorithm once for
every possible input and eval is a table lookup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from microforge import fixedpoint as fp
from microforge.ir import Tensor
from microforge.runtime.kernels.common import float_logistic, tanhf
from microforge.runtime.registry import Kernel, OpContext, register

_F32 = np.float32
_INPUT_INTEGER_BITS_INT8 = 4


@dataclass
class LogisticTanhParams:
    """LOGISTIC / TANH parameters (TFLM ``logistic_common.cc`` / ``tanh.cc`` Prepare).

    ``table`` holds the output for every integer input value ``v`` at index ``v - offset``
    (``offset`` = the input dtype's minimum); ``None`` for float32, which has no parameters.
    ``input_multiplier`` / ``input_left_shift``: int16 only, the Q3.12 input scaling TFLM's
    prepare computes (multiplier 0 means ``3 << left_shift``) and the table was built with; 0 for
    int8 / float32."""

    table: np.ndarray | None = None
    offset: int = 0
    input_multiplier: int = 0
    input_left_shift: int = 0


def checked_log2(x: float) -> tuple[int, bool]:
    """TFLM ``CheckedLog2``: (rounded log2 of x, whether x is within 1e-3 of a power of two), in
    float32 arithmetic."""
    log_x = _F32(math.log(float(_F32(x))))
    inv_ln2 = _F32(1) / _F32(math.log(2.0))
    x_log2 = log_x * inv_ln2
    rounded = fp.round_half_away(x_log2)
    return rounded, bool(abs(x_log2 - _F32(rounded)) < _F32(1e-3))


def _int8_input_scaling(ctx: OpContext, x: Tensor) -> tuple[int, int, int]:
    """(multiplier, left shift, input range radius) of the int8 kernels: the input rescaled to Q4.27."""
    real = float(_F32(x.scale)) * float(1 << (31 - _INPUT_INTEGER_BITS_INT8))
    q, shift = math.frexp(real)
    multiplier = math.floor(q * (1 << 31) + 0.5)  # std::round of a positive value
    if multiplier >= 1 << 31 or shift < 0:
        raise ctx.unsupported(f"input scale {x.scale} is outside what TFLM's int8 kernel handles")
    radius = math.floor(((1 << _INPUT_INTEGER_BITS_INT8) - 1)
                        * float(1 << (31 - _INPUT_INTEGER_BITS_INT8)) / float(1 << shift))
    return multiplier, shift, radius


def _int16_input_scaling(
    ctx: OpContext, x: Tensor, out: Tensor, pot_shifts: tuple[int, ...]
) -> tuple[int, int]:
    """(multiplier, left shift) of the int16 kernels (Q3.12 input): 0 multiplier for a power-of-two
    scale, else ``s * 4096 * 3`` doubled up to [16384, 32767) and truncated."""
    if x.zero_point != 0 or out.zero_point != 0:
        raise ctx.unsupported("int16 LOGISTIC/TANH need zero points of 0")
    log2_in, pot = checked_log2(x.scale)
    shift = 12 + log2_in
    if pot and shift in pot_shifts:
        multiplier = 0
    else:
        real = float(_F32(x.scale)) * 4096.0 * 3.0
        shift = 0
        while real <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            real *= 2.0
        multiplier = int(real)
    log2_out, out_pot = checked_log2(out.scale)
    if not out_pot or log2_out != -15:
        raise ctx.unsupported("int16 LOGISTIC/TANH output scale must be 2**-15")
    return multiplier, shift


class _Activation(Kernel):
    """Shared prepare/eval: float32 through the glibc-exact float function, integers by table."""

    pot_shifts: tuple[int, ...] = ()  # int16 input shifts TFLM special-cases (power-of-two scales)

    def prepare(self, ctx: OpContext) -> LogisticTanhParams:
        x, out = ctx.input(0), ctx.output()
        if x.dtype != out.dtype:
            raise ctx.unsupported(f"input {x.dtype} and output {out.dtype} differ")
        if x.dtype == np.float32:
            return LogisticTanhParams()
        if x.dtype not in (np.int8, np.int16):
            raise ctx.unsupported(f"{x.dtype} is not supported")
        if x.quant is None or out.quant is None:
            raise ctx.unsupported("quantized input and output need scales")
        info = np.iinfo(x.dtype)
        values = np.arange(info.min, info.max + 1, dtype=np.int64)
        if x.dtype == np.int8:
            return LogisticTanhParams(self._int8_table(ctx, x, out, values).astype(x.dtype),
                                      int(info.min))
        multiplier, shift = _int16_input_scaling(ctx, x, out, self.pot_shifts)
        table = self._int16_table(values, multiplier, shift)
        return LogisticTanhParams(table.astype(x.dtype), int(info.min), multiplier, shift)

    def eval(self, params: LogisticTanhParams, inputs, ctx):
        x = inputs[0]
        if params.table is None:
            return [self._float(x)]
        return [params.table[x.astype(np.int64) - params.offset]]

    def _int8_table(self, ctx, x, out, values):
        raise NotImplementedError

    def _int16_table(self, values, multiplier, shift):
        raise NotImplementedError

    def _float(self, x):
        raise NotImplementedError


@register("LOGISTIC")
class Logistic(_Activation):
    """TFLM LOGISTIC for int8, int16 and float32.

    int8 (``reference_integer_ops::Logistic``, the gemmlowp path, not a float LUT): x - zp beyond
    +-radius saturates to -128 / 127, otherwise it is rescaled to Q4.27 with
    ``MultiplyByQuantizedMultiplier`` (multiplier from ``frexp(s_in * 2**27)``), ``gemmlowp::logistic``
    gives Q0.31, a rounding shift by 23 and the fixed output zero point -128 give the int8 result
    (TFLM insists on output zero point -128 and ignores the output scale: 1/256 is implied).

    int16: the ``sigmoid_table_uint16`` interpolation with the input multiplier and shift of
    ``CalculateArithmeticOpDataLogistic`` (zero points 0, output scale 2**-15 required).

    float32: ``1 / (1 + expf(-x))``, ``expf(x)`` below -9, 1 above 16.619047, with glibc's expf.

    Tests: every int8 and int16 input value under several scales and zero points, dense and
    special float inputs, the LOGISTIC op of dtln_noise_suppression.
    """

    def _int8_table(self, ctx, x, out, values):
        if out.zero_point != -128:
            raise ctx.unsupported("int8 LOGISTIC output zero point must be -128")
        multiplier, shift, radius = _int8_input_scaling(ctx, x)
        centered = values - x.zero_point
        inside = np.abs(centered) < radius
        q4 = fp.multiply_by_quantized_multiplier(np.where(inside, centered, 0), multiplier, shift)
        q0 = fp.logistic_q31(q4, _INPUT_INTEGER_BITS_INT8)
        result = np.clip(fp.rounding_divide_by_pot(q0, 23) - 128, -128, 127)
        return np.where(inside, result, np.where(centered < 0, -128, 127))

    pot_shifts = (0,)

    def _int16_table(self, values, multiplier, shift):
        return fp.logistic_int16_lut(values, multiplier, shift)

    def _float(self, x):
        return float_logistic(x)


@register("TANH")
class Tanh(_Activation):
    """TFLM TANH for int8, int16 and float32.

    int8 (``reference_integer_ops::Tanh``): as LOGISTIC's int8 path with ``gemmlowp::tanh`` and a
    rounding shift by 24, clamped to [-128, 127]; the output quantization is not read (TFLM
    implies scale 1/128, zero point 0).

    int16: the ``sigmoid_table_uint16`` interpolation read at 2x; power-of-two input scales 2**-12
    and 2**-11 use the multiplier 3 << shift like TFLM.

    float32: glibc ``tanhf`` (fdlibm algorithm via expm1f), replayed in float32.

    Tests: every int8 and int16 input value under several scales and zero points, dense and
    special float inputs.
    """

    def _int8_table(self, ctx, x, out, values):
        multiplier, shift, radius = _int8_input_scaling(ctx, x)
        centered = values - x.zero_point
        inside = np.abs(centered) < radius
        q4 = fp.multiply_by_quantized_multiplier(np.where(inside, centered, 0), multiplier, shift)
        q0 = fp.tanh_q31(q4, _INPUT_INTEGER_BITS_INT8)
        result = np.clip(fp.rounding_divide_by_pot(q0, 24), -128, 127)
        return np.where(inside, result, np.where(centered < 0, -128, 127))

    pot_shifts = (0, 1)

    def _int16_table(self, values, multiplier, shift):
        return fp.tanh_int16_lut(values, multiplier, shift)

    def _float(self, x):
        return tanhf(x)
