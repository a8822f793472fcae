"""One memory plan for a Vela-compiled model: Vela's region and the CPU operators' tensors.

Vela writes an ``OfflineMemoryAllocation`` metadata entry (TFLM's offline-planned offsets): the
scratch and fast-scratch tensors start at offset 0 of the arena and every tensor an NPU subgraph
reads or writes sits at a fixed offset inside that region, because the command stream addresses
them relative to the scratch base. TFLM honours these offsets and plans the remaining tensors
(offset -1: the activations only CPU operators touch) around them. This module does the same with
microforge's planner: the Vela region is one buffer live for the whole invoke, placed at offset 0,
and every other activation is a buffer planned by best fit around it. A graph input or output
Vela placed in its region lives there; the generated C copies it from / to the caller's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from microforge.ir import Graph, Subgraph
from microforge.ir.metadata import offline_offsets as read_offline_offsets
from microforge.planner.best_fit import plan_best
from microforge.planner.lifetimes import MemoryLayout, OpMemory, Storage, layout_memory
from microforge.planner.plan import ArenaPlan, Buffer, align, verify_plan

ETHOS_U = "ethos-u"  # the custom operator code Vela gives an NPU subgraph


def offline_offsets(graph: Graph) -> dict[int, int]:
    """Tensor index -> offset of Vela's offline plan (main subgraph; tensors it planned only)."""
    return read_offline_offsets(graph.metadata)


@dataclass
class NpuMemory:
    """The arena of a Vela-compiled model: ``region`` bytes of Vela's (scratch, fast scratch and
    the NPU subgraphs' inputs and outputs at Vela's offsets) at offset 0, then the CPU operators'
    activations; ``state`` bytes of variable tensors beside it (a variable Vela placed in its
    region, such as an LSTM state the NPU updates, lives there, as TFLM keeps an offline-planned
    variable in its planned arena)."""

    region: int
    offsets: dict[int, int]  # tensor -> offset inside the region
    plan: ArenaPlan  # buffer 0 is the region
    state: int
    layout: MemoryLayout  # every tensor's storage in ``plan``'s buffers (region tensors: buffer 0)

    @property
    def arena(self) -> int:
        return self.plan.size


def plan_npu_memory(graph: Graph, ops: list[OpMemory] | None = None) -> NpuMemory:
    """Plan the arena of a Vela-compiled graph (``ops``: per-operator memory needs of the CPU
    kernels; default: none). Only their scratch is used: views and in-place outputs would tie a
    CPU tensor to one Vela placed, so every activation is a buffer of its own."""
    sg: Subgraph = graph.main
    offsets = offline_offsets(graph)
    region = max((off + sg.tensors[t].nbytes for t, off in offsets.items()), default=0)
    needs = [OpMemory(scratch=m.scratch) for m in ops] if ops else [OpMemory() for _ in sg.operators]
    layout = layout_memory(sg, needs)
    n = len(sg.operators)
    buffers = [Buffer(0, region, 0, max(n - 1, 0), tensors=sorted(offsets))]
    renumber: dict[int, int] = {}
    for b in layout.buffers:
        if any(t in offsets for t in b.tensors):
            continue
        renumber[b.id] = len(buffers)
        buffers.append(Buffer(len(buffers), b.size, b.first, b.last, list(b.tensors), b.scratch_of))
    plan = _pinned_first(buffers)
    verify_plan(plan)
    storage = dict(layout.storage)
    for t, st in layout.storage.items():
        if t in offsets:
            storage[t] = Storage("arena", 0, offsets[t])
        elif st.kind == "arena":
            storage[t] = Storage("arena", renumber[st.index], st.offset)
    placed = MemoryLayout(storage, buffers, set(), {},
                          {i: renumber[b] for i, b in layout.scratch.items()})
    state = sum(t.nbytes for i, t in enumerate(sg.tensors) if t.is_variable and i not in offsets)
    return NpuMemory(region, offsets, plan, state, placed)


def _pinned_first(buffers: list[Buffer]) -> ArenaPlan:
    """The region at offset 0 (it must start the arena, as in TFLM; it lives for the whole invoke,
    so nothing can share its bytes) and the CPU buffers planned by best fit after it."""
    start = align(buffers[0].size, 16)
    offsets = {0: 0}
    lower = start
    if len(buffers) > 1:
        rest = plan_best(buffers[1:])
        offsets.update({b: start + off for b, off in rest.offsets.items()})
        lower += rest.lower_bound
    return ArenaPlan(buffers, offsets, "Vela's region at 0, best fit for the CPU tensors", lower)
