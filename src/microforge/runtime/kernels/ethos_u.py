"""Vela's ``ethos-u`` custom operator: one NPU subgraph, run by the command-stream emulator
(``runtime/ethos_u``). Emulated, not executed on an NPU.

Inputs, as TFLM's Ethos-U kernel hands them to the driver: the command stream (custom data),
then the base addresses: 0 the flash (encoded weights and scales), 1 the scratch area, 2 the fast
scratch, 3.. the subgraph's inputs, then its outputs. Vela's offline plan (the model's
``OfflineMemoryAllocation`` metadata, TFLM's offline-planned offsets) places every input and
output of the subgraph inside the scratch area, where the command stream addresses them: the
kernel copies each input to its offset there, runs the stream and reads each output back. A
fast-scratch tensor other than the scratch tensor (U65 ``Dedicated_Sram``) is a memory of its
own, as dedicated SRAM is. Variable tensors among the inputs (LSTM states Vela placed in its
region) are written back after the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microforge.ir.metadata import offline_offsets
from microforge.runtime.ethos_u import Payload, parse_payload, run_payload
from microforge.runtime.registry import Kernel, OpContext, register


@dataclass
class EthosUParams:
    """``payload``: the parsed command stream. ``flash``: base address 0 as (1, n) bytes.
    ``scratch``/``fast``: region sizes (``fast`` None: base 2 is the scratch area). ``inputs``/
    ``outputs``: (position in the op's inputs/outputs, offset in the scratch area). Runtime only:
    ``cache`` (decoded weights, kept across runs)."""

    payload: Payload
    flash: np.ndarray
    scratch: int
    fast: int | None
    inputs: list[tuple[int, int]]
    outputs: list[tuple[int, int]]
    where: str
    cache: dict = field(default_factory=dict, repr=False, compare=False)


@register("ethos-u")
class EthosUKernel(Kernel):
    unread_inputs = (1, 2, 3)  # flash (read in prepare), scratch, fast scratch: memory, not values
    def prepare(self, ctx: OpContext) -> EthosUParams:
        op, sg = ctx.op, ctx.subgraph
        if len(op.inputs) < 4:
            raise ctx.unsupported("an ethos-u operator needs command stream, flash, scratch and "
                                  "fast scratch inputs")
        stream_t, flash_t, scratch_t, fast_t = op.inputs[:4]
        if sg.tensors[stream_t].data is None:
            raise ctx.unsupported(f"its command stream tensor {stream_t} is not constant")
        where = f"operator {ctx.index} (ethos-u)"
        payload = parse_payload(sg.tensors[stream_t].data.tobytes(), where)
        offsets = offline_offsets(ctx.metadata)
        base = offsets.get(scratch_t, 0)
        ins, outs = [], []
        size = sg.tensors[scratch_t].nbytes
        for k, t in enumerate(op.inputs[4:]):
            if t >= 0:
                ins.append((4 + k, self._offset(ctx, offsets, t, base)))
        for k, t in enumerate(op.outputs):
            outs.append((k, self._offset(ctx, offsets, t, base)))
        for pos, off in ins:
            size = max(size, off + sg.tensors[op.inputs[pos]].nbytes)
        for pos, off in outs:
            size = max(size, off + sg.tensors[op.outputs[pos]].nbytes)
        fast = None if fast_t == scratch_t else sg.tensors[fast_t].nbytes
        data = sg.tensors[flash_t].data  # None: a subgraph without weights (Vela's empty flash)
        flash = np.frombuffer(b"" if data is None else data.tobytes(), dtype=np.uint8)[None]
        return EthosUParams(payload, flash, size, fast, ins, outs, where)

    @staticmethod
    def _offset(ctx: OpContext, offsets: dict[int, int], t: int, base: int) -> int:
        if t not in offsets:
            raise ctx.unsupported(f"tensor {t} ({ctx.subgraph.tensors[t].name!r}) has no offset in "
                                  "the model's OfflineMemoryAllocation: the command stream addresses "
                                  "it inside Vela's scratch area, so it cannot be placed")
        return offsets[t] - base

    def eval(self, params: EthosUParams, inputs: list[np.ndarray | None], ctx: OpContext) -> list[np.ndarray]:
        batch = max([x.shape[0] for x in inputs[4:] if x is not None] or [1])
        scratch = np.zeros((batch, params.scratch), dtype=np.uint8)
        for pos, off in params.inputs:
            raw = _bytes(inputs[pos], batch)
            scratch[:, off:off + raw.shape[1]] = raw
        regions = {0: params.flash, 1: scratch}
        regions[2] = scratch if params.fast is None else np.zeros((batch, params.fast), np.uint8)
        run_payload(params.payload, regions, params.where, cache=params.cache)
        sg = ctx.subgraph
        outs = []
        for pos, off in params.outputs:
            t = sg.tensors[ctx.op.outputs[pos]]
            raw = np.ascontiguousarray(scratch[:, off:off + t.nbytes])
            outs.append(raw.view(t.dtype).reshape((batch,) + tuple(t.shape)).copy())
        for pos, off in params.inputs:  # variable tensors (states in Vela's region): in place
            t = sg.tensors[ctx.op.inputs[pos]]
            if t.is_variable and inputs[pos] is not None:
                raw = np.ascontiguousarray(scratch[:, off:off + t.nbytes])
                inputs[pos][...] = raw.view(t.dtype).reshape(inputs[pos].shape)
        return outs


def _bytes(x: np.ndarray, batch: int) -> np.ndarray:
    x = np.ascontiguousarray(np.broadcast_to(x, (batch,) + x.shape[1:]))
    return x.view(np.uint8).reshape(batch, -1)
