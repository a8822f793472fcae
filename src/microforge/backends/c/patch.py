"""Patch-based execution in the generated C: which chains of int8 convolutions run band by band
(``planner.patch`` has the row geometry), and the C that runs them.

A stage is chosen only when it lowers the planned arena: chains of CONV_2D / DEPTHWISE_CONV_2D
where each member's output feeds only the next member are cut into candidate stages (those
holding the step where the bytes live peak), each with several band heights; the candidates are
ranked by their lower bound, those near the lowest planned in full; a stage must shrink the
arena by ``MIN_GAIN``, and among those within ``TOLERANCE`` of the smallest arena the one that
recomputes the fewest MACs wins (a few percent of RAM is not worth a quarter more MACs); all
stages together recompute at most ``RECOMPUTE_BUDGET`` of the model's MACs. Up to
``MAX_STAGES`` stages are added this way, each where the live bytes then peak.

In the graph the C backend plans, a stage is one operator (``STAGE_OPCODE``) reading the stage
input and writing the stage output, with the band slots (and its members' kernel scratch) as its
scratch. Its C is each member's own kernel call, once per band, with the band's rows as the
kernel's image (``in_h``, ``out_h``, ``pad_top``): the same kernels and constants, so the output
stays byte for byte the Python runtime's (which runs the unfused graph).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from microforge.backends.c.emitter import EmitContext, OpEmitter
from microforge.ir import Operator, Subgraph
from microforge.ir.ops import count_macs
from microforge.planner.best_fit import plan_best
from microforge.planner.lifetimes import OpMemory, layout_memory
from microforge.planner.patch import PatchStage, RowGeometry, split_rows
from microforge.planner.plan import align, live_bytes_by_step
from microforge.runtime.registry import OpContext, PreparedOp

STAGE_OPCODE = "MF_PATCH_STAGE"
PATCH_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")
ROWS_PER_BAND = (1, 2, 3, 4, 6, 8, 12, 16)
MAX_MEMBERS = 8
MAX_STAGES = 3
SHORTLIST = 4
MIN_GAIN = 0.05  # a stage must shrink the arena by this fraction ...
TOLERANCE = 0.10  # ... and may be this much above the smallest candidate if it recomputes less
RECOMPUTE_BUDGET = 0.10  # all stages together recompute at most this fraction of the model's MACs
_IN, _OUT = "@MF_BAND_IN@", "@MF_BAND_OUT@"


@dataclass
class Stage:
    """A chosen stage: members ``first..last`` (execution order) and their band split."""

    first: int
    last: int
    patch: PatchStage
    kernel_scratch: int  # the largest scratch a member's kernel needs (after the two slots)

    @property
    def scratch_bytes(self) -> int:
        return self.patch.scratch_bytes + align(self.kernel_scratch)

    def memory(self) -> OpMemory:
        return OpMemory(inplace=True, inplace_shift=self.patch.inplace_shift(),
                        scratch=self.scratch_bytes)

    def summary(self) -> dict:
        """The stage as the compile report shows it."""
        p = self.patch
        return {"first": self.first, "last": self.last, "members": self.last - self.first + 1,
                "rows_per_band": p.rows_per_band, "bands": len(p.bands),
                "scratch_bytes": self.scratch_bytes, "macs": p.macs, "extra_macs": p.extra_macs}


@dataclass
class StageParams:
    """What the stage's emitter needs: the stage and each member's prepared operator and emitter."""

    stage: Stage
    members: list[PreparedOp]
    emitters: list[OpEmitter]


def row_geometry(prepared: PreparedOp) -> RowGeometry | None:
    """A member's row geometry, or None when the operator cannot run band by band."""
    ctx, params = prepared.ctx, prepared.params
    if ctx.op.opcode not in PATCH_OPS or getattr(params, "kind", None) != "int8":
        return None
    x, out = ctx.input(0), ctx.output()
    if len(x.shape) != 4 or x.shape[0] != 1 or len(out.shape) != 4:
        return None
    g = params.geometry
    macs = count_macs(ctx.op, ctx.subgraph)
    return RowGeometry(g.in_h, g.out_h, g.k_h, g.stride_h, g.dil_h, g.pad_top,
                       x.shape[2] * x.shape[3], out.shape[2] * out.shape[3], macs // max(g.out_h, 1))


def chains(sg: Subgraph, prepared: list[PreparedOp]) -> list[list[int]]:
    """Maximal runs of consecutive patchable operators, each feeding only the next one."""
    uses: dict[int, list[tuple[int, int]]] = {}
    for i, op in enumerate(sg.operators):
        for k, t in enumerate(op.inputs):
            if t >= 0:
                uses.setdefault(t, []).append((i, k))
    ok = [row_geometry(p) is not None for p in prepared]
    runs: list[list[int]] = []
    for i in range(len(sg.operators)):
        if not ok[i]:
            continue
        prev = sg.operators[i - 1].outputs[0] if i else None
        linked = (runs and runs[-1][-1] == i - 1 and prev not in sg.outputs
                  and uses.get(prev) == [(i, 0)])
        if linked:
            runs[-1].append(i)
        else:
            runs.append([i])
    return [r for r in runs if len(r) > 1]


def fuse(sg: Subgraph, memory: list[OpMemory], stages: list[Stage]) -> tuple[Subgraph, list[OpMemory]]:
    """The subgraph with each stage as one operator (stage input -> stage output)."""
    starts = {s.first: s for s in stages}
    operators, mem, i = [], [], 0
    while i < len(sg.operators):
        stage = starts.get(i)
        if stage is None:
            operators.append(sg.operators[i])
            mem.append(memory[i])
            i += 1
            continue
        operators.append(Operator(STAGE_OPCODE, [sg.operators[stage.first].inputs[0]],
                                  [sg.operators[stage.last].outputs[0]]))
        mem.append(stage.memory())
        i = stage.last + 1
    return Subgraph(sg.tensors, operators, sg.inputs, sg.outputs, sg.name), mem


def _candidates(sg: Subgraph, prepared: list[PreparedOp], memory: list[OpMemory],
                chosen: list[Stage]) -> list[Stage]:
    taken = {i for s in chosen for i in range(s.first, s.last + 1)}
    fused, fused_mem = fuse(sg, memory, chosen)
    live = live_bytes_by_step(layout_memory(fused, fused_mem).buffers)
    peak_step = max(range(len(live)), key=lambda t: live[t]) if live else 0
    peak_op = _model_step(sg, chosen)[peak_step] if live else -1
    out = []
    for run in chains(sg, prepared):
        for a in range(len(run)):
            for b in range(a + 1, min(len(run), a + MAX_MEMBERS)):
                first, last = run[a], run[b]
                if not first <= peak_op <= last or taken & set(range(first, last + 1)):
                    continue
                members = [row_geometry(prepared[i]) for i in range(first, last + 1)]
                scratch = max(memory[i].scratch for i in range(first, last + 1))
                for rows in ROWS_PER_BAND:
                    if rows >= members[-1].out_h:
                        break
                    patch = split_rows(members, rows)
                    if all(c.in_h > 0 and c.out_h > 0 for band in patch.bands for c in band):
                        out.append(Stage(first, last, patch, scratch))
    return out


def _model_step(sg: Subgraph, chosen: list[Stage]) -> list[int]:
    """For each step of the fused subgraph, the first unfused operator it runs."""
    starts = {s.first: s for s in chosen}
    steps, i = [], 0
    while i < len(sg.operators):
        steps.append(i)
        i = starts[i].last + 1 if i in starts else i + 1
    return steps


def choose_stages(sg: Subgraph, prepared: list[PreparedOp], memory: list[OpMemory],
                  arena: int) -> list[Stage]:
    """Stages that lower the planned arena (``arena``: the plan without any) by at least
    ``MIN_GAIN`` within the recomputation budget; among candidates within ``TOLERANCE`` of the
    smallest arena, the one that recomputes the fewest MACs."""
    chosen: list[Stage] = []
    budget = RECOMPUTE_BUDGET * sum(count_macs(op, sg) for op in sg.operators)
    for _ in range(MAX_STAGES):
        goal = arena * (1 - MIN_GAIN)
        ranked = []
        spent = sum(s.patch.extra_macs for s in chosen)
        for stage in _candidates(sg, prepared, memory, chosen):
            if spent + stage.patch.extra_macs > budget:
                continue
            fused, mem = fuse(sg, memory, sorted(chosen + [stage], key=lambda s: s.first))
            bound = max(live_bytes_by_step(layout_memory(fused, mem).buffers), default=0)
            if bound <= goal:
                ranked.append((bound, stage))
        if not ranked:
            break
        lowest = min(b for b, _ in ranked)
        near = sorted((r for r in ranked if r[0] <= lowest * (1 + TOLERANCE)),
                      key=lambda r: (r[1].patch.extra_macs, r[0]))
        planned = []
        for _, stage in near[:SHORTLIST]:
            trial = sorted(chosen + [stage], key=lambda s: s.first)
            fused, mem = fuse(sg, memory, trial)
            size = plan_best(layout_memory(fused, mem).buffers).size
            if size <= goal:
                planned.append((size, stage.patch.extra_macs, trial))
        if not planned:
            break
        smallest = min(p[0] for p in planned)
        size, _, chosen = min((p for p in planned if p[0] <= smallest * (1 + TOLERANCE)),
                              key=lambda p: (p[1], p[0]))
        arena = size
    return chosen


class StageEmitter(OpEmitter):
    """The C of a stage: per band, each member's kernel call on the band's rows."""

    def emit(self, ctx: OpContext, params: StageParams, e: EmitContext) -> None:
        patch = params.stage.patch
        base = e.scratch()
        kernel_scratch = f"({base} + {patch.scratch_bytes})" if params.stage.kernel_scratch else None
        last = len(patch.members) - 1
        calls: dict[tuple[int, int, int, int], list[str]] = {}
        for band in patch.bands:
            e.call(f"/* rows {band[-1].out_first}..{band[-1].out_first + band[-1].out_h - 1} */")
            for c in band:
                key = (c.member, c.in_h, c.out_h, c.pad_top)
                if key not in calls:
                    calls[key] = self._variant(params, c, e, kernel_scratch, len(calls))
                m = patch.members[c.member]
                src = (f"({e.input_ptr(0)} + {c.in_first * m.in_row_bytes})" if c.member == 0
                       else f"((int8_t *)({base} + {patch.slot_offset(c.member - 1)}))")
                dst = (f"({e.output_ptr()} + {c.out_first * m.out_row_bytes})" if c.member == last
                       else f"((int8_t *)({base} + {patch.slot_offset(c.member)}))")
                for s in calls[key]:
                    e.call(s.replace(_IN, src).replace(_OUT, dst))

    @staticmethod
    def _variant(params: StageParams, c, e: EmitContext, kernel_scratch: str | None,
                 n: int) -> list[str]:
        """The member's call for one band geometry, with placeholder pointers; its constants are
        declared under the member's own prefix (once, however many geometries)."""
        member = params.members[c.member]
        mctx, mp = member.ctx, member.params
        op = mctx.op

        def pointer(t: int) -> str:
            if t == op.inputs[0]:
                return _IN
            if t == op.outputs[0]:
                return _OUT
            raise ValueError(f"a stage member reads tensor {t} outside the stage")

        geometry = replace(mp.geometry, in_h=c.in_h, out_h=c.out_h, pad_top=c.pad_top)
        sub = EmitContext(mctx, pointer, scratch_expr=kernel_scratch,
                          prefix=f"{e.prefix}m{c.member}", params_name=f"{e.prefix}m{c.member}_rows{n}")
        params.emitters[c.member].emit(mctx, replace(mp, geometry=geometry), sub)
        e.consts += sub.consts
        e.structs += sub.structs
        e.sources |= sub.sources
        return sub.statements


STAGE_EMITTER = StageEmitter()
