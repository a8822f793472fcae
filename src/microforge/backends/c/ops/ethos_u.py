"""Vela's ``ethos-u`` custom operator (one NPU subgraph) → a call of the Ethos-U driver
(``mf_ethos_u.c``: ``ethosu_reserve_driver`` / ``ethosu_invoke_v3`` / ``ethosu_release_driver``).

The operator's inputs are the command stream, the flash tensor (Vela's encoded weights and scales),
the scratch and fast-scratch tensors, then the subgraph's inputs; its outputs follow. As TFLM's
Ethos-U kernel does, the command stream is the driver's custom data and every other input, then
every output, is one base address (at most ``MF_ETHOS_U_MAX_BASE_ADDRS``; TFLM drops the rest
too): 0 flash, 1 scratch, 2 fast scratch, 3.. inputs and outputs. The command stream addresses the
subgraph's inputs and outputs relative to base address 1, so they must sit at Vela's offsets inside
the scratch region: the Ethos-U memory plan (``backends/ethos_u/memory.py``) keeps that region at
the arena's start. The sizes are the tensors' byte sizes (TFLM passes element counts, which differ
for int16 tensors).

The command stream and the flash tensor become ``static const`` arrays aligned to 16 bytes (the
driver's requirement for base addresses); a flash tensor several subgraphs share is declared once.
A subgraph without weights (an ADD: simple_add_model) gets a flash tensor of 0 bytes and no
buffer from Vela: base address 0 is then a one-byte aligned placeholder passed with size 0.

This emitter is not in the C backend's registry (the operator's table row says so with
``no_c``): only the Ethos-U library generator (``backends/ethos_u/library.py``) uses it, with
``params`` None. The runtime's kernel for the operator (``runtime/kernels/ethos_u.py``) emulates
the command stream; its parameters are not used here.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter
from microforge.backends.c.sources import header_define
from microforge.runtime.registry import OpContext

ALIGN = 16  # bytes: the driver's alignment of the command stream and every base address


class EthosUEmitter(OpEmitter):
    ops = ("ethos-u",)

    def emit(self, ctx: OpContext, params: None, e: EmitContext) -> None:
        op, sg = ctx.op, ctx.subgraph
        if len(op.inputs) < 4:
            raise ctx.unsupported("an ethos-u operator needs command stream, flash, scratch and "
                                  "fast scratch inputs")
        stream_t, flash_t = op.inputs[0], op.inputs[1]
        for t, what in ((stream_t, "command stream"), (flash_t, "flash")):
            if sg.tensors[t].data is None and not (t == flash_t and sg.tensors[t].nbytes == 0):
                raise ctx.unsupported(f"its {what} tensor {t} is not constant")
        stream = e.shared_const(f"mf_t{stream_t}_command_stream", _bytes(sg.tensors[stream_t]), ALIGN)
        flash = e.shared_const(f"mf_t{flash_t}_flash", _bytes(sg.tensors[flash_t]), ALIGN)
        bases = [(flash, sg.tensors[flash_t].nbytes)]
        bases += [(e.ptr(t), sg.tensors[t].nbytes) for t in list(op.inputs[2:]) + list(op.outputs)]
        bases = bases[:header_define("mf_ethos_u.h", "MF_ETHOS_U_MAX_BASE_ADDRS")]
        sizes = f"{e.prefix}_base_sizes"
        e.structs.append(f"static const size_t {sizes}[{len(bases)}] = "
                         f"{{{', '.join(str(n) for _, n in bases)}}};")
        e.call("{")
        e.call(f"    uint64_t base[{len(bases)}];")
        for k, (ptr, _) in enumerate(bases):
            e.call(f"    base[{k}] = (uint64_t)(uintptr_t){ptr};")
        e.call(f"    if (mf_ethos_u_invoke({stream}, {sg.tensors[stream_t].nbytes}, base, {sizes}, "
               f"{len(bases)}) != 0) {{ return -1; }}")
        e.call("}")
        e.use("mf_ethos_u")


def _bytes(tensor) -> np.ndarray:
    """The tensor's bytes; none for Vela's flash tensor of a subgraph without weights or scales
    (shape (0,), no buffer: base address 0 is then a valid aligned address of size 0)."""
    if tensor.data is None:
        return np.zeros(0, np.uint8)
    return np.frombuffer(np.ascontiguousarray(tensor.data).tobytes(), np.uint8)


ETHOS_U_EMITTER = EthosUEmitter()
