"""SVDF (int8 input with int16 or int8 state, float32) → ``mf_svdf.c``.

The activation state is the operator's variable tensor (a static state buffer restored by
``NAME_reset``). The C kernel takes the runtime kernel's prepared multipliers; the emitter folds
the input zero point into a per-filter constant of the feature dot product and the state zero
point (times each filter's time-weight sum, modulo 2^32 like the wrapping C sum) into the bias.
The integer kernels widen the input row to int16 in scratch; the time weights are stored as int16
for either state type so both use the same widening multiply-add.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.fixedpoint import wrap_int32
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.svdf import SvdfFloatParams, SvdfIntParams
from microforge.runtime.registry import OpContext


@c_emitter("SVDF")
class SvdfEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: SvdfIntParams | SvdfFloatParams) -> OpMemory:
        if isinstance(params, SvdfFloatParams):
            return OpMemory()
        return OpMemory(scratch=2 * ctx.input(0).shape[1])

    def emit(self, ctx: OpContext, params: SvdfIntParams | SvdfFloatParams, e: EmitContext) -> None:
        sh = params.shape
        x = ctx.input(0)
        geometry = {
            "batches": x.shape[0], "input_size": x.shape[1], "filters": sh.filters,
            "memory": sh.memory, "rank": sh.rank, "units": sh.units,
        }
        state = e.input_ptr(4)
        if isinstance(params, SvdfFloatParams):
            fields = dict(geometry, activation=params.activation)
            fields["weights_feature"] = Raw(e.const("wf", params.weights_feature.astype(np.float32)))
            fields["weights_time"] = Raw(e.const("wt", params.weights_time.astype(np.float32)))
            fields["bias"] = Raw(e.const("bias", params.bias.astype(np.float32)))
            p = e.params("mf_svdf_f32_params", fields)
            e.call(f"mf_svdf_f32({p}, {e.input_ptr(0)}, {state}, {e.output_ptr()});")
            e.use("mf_svdf")
            return
        wf = np.asarray(params.weights_feature).T.astype(np.int64)  # [filters][input_size]
        if 256 * int(np.abs(wf).sum(axis=1).max(initial=0)) >= 1 << 31:
            raise ctx.unsupported("feature dot products could overflow int32")
        for multiplier, shift in (params.scale_1, params.scale_2):
            if multiplier < 0 or abs(shift) > 31:
                raise ctx.unsupported("rescale outside mf_requantize's range")
        wt = np.asarray(params.weights_time, np.int64)
        time_offset = (-params.state_zp * wt.sum(axis=1)).reshape(sh.units, sh.rank).sum(axis=1)
        fields = dict(geometry)
        fields.update({
            "scale_1_multiplier": params.scale_1[0], "scale_1_shift": params.scale_1[1],
            "scale_2_multiplier": params.scale_2[0], "scale_2_shift": params.scale_2[1],
            "state_zp": params.state_zp, "output_zp": params.output_zp,
            "weights_feature": Raw(e.const("wf", wf.astype(np.int8))),
            "feature_offset": Raw(e.const("feature_offset",
                                          (-params.input_zp * wf.sum(axis=1)).astype(np.int32))),
            "bias": Raw(e.const("bias", wrap_int32(params.bias + time_offset).astype(np.int32))),
            "weights_time": Raw(e.const("wt", wt.astype(np.int16))),
        })
        p = e.params("mf_svdf_s8_params", fields)
        suffix = "s16" if params.state_dtype == np.int16 else "s8"
        e.call(f"mf_svdf_s8_{suffix}({p}, {e.input_ptr(0)}, {state}, {e.output_ptr()}, "
               f"(int16_t *){e.scratch()});")
        e.use("mf_svdf")
