"""float32 and int16 elementwise activations → ``mf_activations.c``.

int8 inputs of these operators are 256-entry tables (``lut.py``, which owns the registrations and
hands the other input types over to this emitter). float32 LOGISTIC / TANH call the C library's
expf / tanhf (glibc's algorithms, four lanes at a time on SSE2 hosts; the runtime emulates
glibc; a device libm may differ by an ulp);
int16 LOGISTIC / TANH run TFLM's sigmoid-table interpolation with the input scaling of the runtime's
prepare (``LogisticTanhParams``);
RELU / RELU6 / LEAKY_RELU int16 take the runtime's multipliers and clamp bounds. Every kernel runs
in place.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.cdata import c_float
from microforge.backends.c.emitter import EmitContext, OpEmitter
from microforge.backends.c.ops.lut import wider_input_emitter
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.activations import PointwiseParams
from microforge.runtime.kernels.logistic_tanh import LogisticTanhParams
from microforge.runtime.registry import OpContext

_FLOAT_KERNELS = {"LOGISTIC": "mf_logistic_f32", "TANH": "mf_tanh_f32", "RELU": "mf_relu_f32",
                  "RELU6": "mf_relu6_f32", "HARD_SWISH": "mf_hard_swish_f32"}
_LUT16 = ("LOGISTIC", "TANH")


def lut16_prescale(multiplier: int, shift: int) -> tuple[int, int]:
    """The (multiplier, right shift) pair the C LUT prescale takes for fixedpoint.py's
    ``(input_multiplier, input_left_shift)``: multiplier 0 means ``3 << shift`` and no shift."""
    return (3 << shift, 0) if multiplier == 0 else (multiplier, shift)


@wider_input_emitter("LOGISTIC", "TANH", "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH")
class WideActivationEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        self._check(ctx)
        return OpMemory(inplace=True)

    @staticmethod
    def _check(ctx: OpContext) -> np.dtype:
        x, out = ctx.input(0), ctx.output()
        if x.dtype != out.dtype or x.dtype not in (np.float32, np.int16) or len(ctx.op.inputs) != 1:
            raise ctx.unsupported(f"{x.dtype} -> {out.dtype} has no C kernel yet")
        if x.dtype == np.int16 and ctx.op.opcode == "HARD_SWISH":
            raise ctx.unsupported("int16 HARD_SWISH has no kernel")
        return np.dtype(x.dtype)

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        op = ctx.op.opcode
        io = f"{e.input_ptr(0)}, {e.output_ptr()}, {ctx.output().size}"
        if self._check(ctx) == np.float32:
            if op == "LEAKY_RELU":
                e.call(f"mf_leaky_relu_f32({c_float(params.alpha)}, {io});")
            else:
                e.call(f"{_FLOAT_KERNELS[op]}({io});")
        elif op in _LUT16:
            p = e.params("mf_lut16_params", self._lut16_fields(params))
            e.call(f"mf_{op.lower()}_s16({p}, {io});")
        else:
            p = e.params("mf_act_s16_params", self._relu16_fields(ctx, params))
            e.call(f"mf_{op.lower()}_s16({p}, {io});")
        e.use("mf_activations")

    @staticmethod
    def _lut16_fields(params: LogisticTanhParams) -> dict:
        multiplier, shift = lut16_prescale(params.input_multiplier, params.input_left_shift)
        return {"multiplier": multiplier, "shift": shift}

    @staticmethod
    def _relu16_fields(ctx: OpContext, params: PointwiseParams) -> dict:
        q_alpha, alpha_shift = params.m_alpha
        if max(abs(params.m[1]), abs(alpha_shift)) > 31:
            raise ctx.unsupported("requantization shift beyond +-31")
        return {"zp_in": params.zp_in, "zp_out": params.zp_out, "lo": params.lo, "hi": params.hi,
                "multiplier": params.m[0], "shift": params.m[1],
                "alpha_multiplier": abs(q_alpha), "alpha_shift": alpha_shift,
                "alpha_negative": q_alpha < 0}
