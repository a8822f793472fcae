"""The Ethos-U C library under test: a copy of the generated library beside the driver stand-in
(``tests/builders/ethos_u_stand_in/``, clearly not the driver) and the NPU traffic the stand-in
expects, one entry per ``ethosu_invoke_v3`` call: the bytes each NPU subgraph must find in its
inputs and the bytes it writes to its outputs, both computed by microforge's numpy runtime running
the original operators the subgraph replaces, on the inputs ``runtime.reference`` draws."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from microforge.backends.c.cdata import c_values
from microforge.backends.c.sources import header_define
from microforge.backends.ethos_u import NpuModel
from microforge.backends.ethos_u.check import tensor_map
from microforge.backends.ethos_u.memory import ETHOS_U
from microforge.runtime.interpreter import Executor
from microforge.runtime.reference import reference

STAND_IN = Path(__file__).resolve().parent / "ethos_u_stand_in"
STAND_IN_FILES = ["ethosu_driver.h", "stand_in.h", "ethosu_stand_in.c"]


def _values_by_sample(npu: NpuModel, n: int, seed: int) -> list[dict[int, np.ndarray]]:
    """Every tensor of the original model for each reference sample, in the order the harness runs
    them (sequence-major for stateful models)."""
    ref = reference(npu.graph, n, seed)
    ex = Executor(npu.graph, threads=1)
    if not ref.reset_every:
        _, values = ex.run(ref.inputs, keep_intermediates=True)
        return [{t: v[i] for t, v in values.items()} for i in range(ref.total)]
    steps = ref.reset_every
    sequences = ref.total // steps
    samples: list[dict[int, np.ndarray]] = [{} for _ in range(ref.total)]
    ex.reset()
    for step in range(steps):
        batch = [x.reshape((sequences, steps) + x.shape[1:])[:, step] for x in ref.inputs]
        _, values = ex.run(batch, keep_intermediates=True)
        for s in range(sequences):
            samples[s * steps + step] = {t: v[s] for t, v in values.items()}
    return samples


def traffic_source(npu: NpuModel, n: int, seed: int = 0) -> str:
    """``stand_in_calls.c``: the stand-in's table for ``n`` reference samples."""
    mapping = tensor_map(npu)
    offsets = npu.memory.offsets
    sg = npu.optimized.main
    limit = header_define("mf_ethos_u.h", "MF_ETHOS_U_MAX_BASE_ADDRS")
    lines = ['#include "stand_in.h"', ""]
    calls = []
    for s, values in enumerate(_values_by_sample(npu, n, seed)):
        for i, op in enumerate(sg.operators):
            if op.opcode != ETHOS_U:
                continue
            key = f"s{s}_op{i}"
            bases = list(op.inputs[1:]) + list(op.outputs)
            tables = {}
            for kind, tensors in (("in", op.inputs[4:]), ("out", op.outputs)):
                entries = []
                for t in tensors:
                    if t not in mapping:  # an NPU-internal tensor (e.g. an LSTM step's state)
                        continue
                    if t in offsets:  # where the command stream finds it: base 1 + Vela's offset
                        base, offset = 1, offsets[t]
                    elif bases.index(t) < limit:
                        base, offset = bases.index(t), 0
                    else:
                        continue
                    data = np.ascontiguousarray(values[mapping[t]]).view(np.uint8).reshape(-1)
                    lines.append(f"static const uint8_t {key}_{kind}{t}[{data.size}] = "
                                 f"{{{c_values(data)}}};")
                    entries.append(f"{{{base}, {offset}, {data.size}, {key}_{kind}{t}}}")
                if entries:
                    lines.append(f"static const stand_in_tensor {key}_{kind}[] = "
                                 f"{{{', '.join(entries)}}};")
                tables[kind] = (len(entries), f"{key}_{kind}" if entries else "0")
            calls.append(f"{{{sg.tensors[op.inputs[0]].nbytes}, {min(len(bases), limit)}, "
                         f"{tables['in'][0]}, {tables['out'][0]}, {tables['in'][1]}, "
                         f"{tables['out'][1]}}}")
    lines += ["", "const stand_in_call stand_in_calls[] = {", *[f"    {c}," for c in calls], "};",
              f"const uint32_t stand_in_num_calls = {len(calls)};", ""]
    return "\n".join(lines)


def with_stand_in(lib_dir: Path, work: Path, npu: NpuModel, n: int, seed: int = 0) -> Path:
    """``work``: the library's sources, the driver stand-in and its table for ``n`` samples; build
    it as a library directory (``targets.host.verify``, ``cortex_m.firmware.evaluate``)."""
    work.mkdir(parents=True, exist_ok=True)
    for f in lib_dir.iterdir():
        if f.suffix in (".c", ".h"):
            shutil.copy(f, work / f.name)
    for f in STAND_IN_FILES:
        shutil.copy(STAND_IN / f, work / f)
    (work / "stand_in_calls.c").write_text(traffic_source(npu, n, seed))
    return work
