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

A stage may also end in the FULLY_CONNECTED its last member feeds (directly or through one view,
e.g. RESHAPE; one batch row): a :class:`Tail`. The last member's band then goes to a band buffer
and its contribution to every output is added to the FULLY_CONNECTED's int32 sums at once
(``mf_fc_s8_accumulate``), which are requantized after the last band (``mf_fc_s8_finish``), so the
activation feeding the classifier never exists whole (a chain of one member suffices: nothing is
recomputed). Integer sums do not depend on their order, so the output is the unfused one's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from microforge.backends.c.emitter import EmitContext, OpEmitter
from microforge.backends.c.ops.fully_connected import s8_params, s8_scratch, s8_supported
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
RETAIN = (False, True)  # band splits tried: recompute the overlapping rows / keep them (no recompute)
RECOMPUTE_BUDGET = 0.10  # all stages together recompute at most this fraction of the model's MACs
_IN, _OUT = "@MF_BAND_IN@", "@MF_BAND_OUT@"


@dataclass(frozen=True)
class Tail:
    """The int8 FULLY_CONNECTED (operator ``index``, ``depth`` outputs, one batch row) a stage's
    last member feeds; its sums accumulate band by band."""

    index: int
    depth: int
    scratch: int  # its kernel's scratch (the input widened to int16 a chunk at a time)


@dataclass
class Stage:
    """A chosen stage: members ``first..last`` (execution order), their band split, and the
    FULLY_CONNECTED ``tail`` they feed, if fused."""

    first: int
    last: int
    patch: PatchStage
    kernel_scratch: int  # the largest scratch a member's kernel needs (after the two slots)
    tail: Tail | None = None

    @property
    def end(self) -> int:
        """The stage's last operator (the tail's FULLY_CONNECTED when there is one)."""
        return self.tail.index if self.tail else self.last

    @property
    def band_bytes(self) -> int:
        """With a tail: the buffer of the last member's band (then the int32 sums)."""
        if self.tail is None:
            return 0
        return align(self.patch.rows_per_band * self.patch.members[-1].out_row_bytes)

    @property
    def kernel_scratch_offset(self) -> int:
        tail = align(4 * self.tail.depth) if self.tail else 0
        return self.patch.scratch_bytes + self.band_bytes + tail

    @property
    def scratch_bytes(self) -> int:
        need = max(self.kernel_scratch, self.tail.scratch if self.tail else 0)
        return self.kernel_scratch_offset + align(need)

    def memory(self) -> OpMemory:
        if self.tail:  # the outputs are written after every input byte was read
            return OpMemory(scratch=self.scratch_bytes)
        return OpMemory(inplace=True, inplace_shift=self.patch.inplace_shift(),
                        scratch=self.scratch_bytes)

    def summary(self) -> dict:
        """The stage as the compile report shows it."""
        p = self.patch
        return {"first": self.first, "last": self.last, "members": self.last - self.first + 1,
                "rows_per_band": p.rows_per_band, "bands": len(p.bands),
                "scratch_bytes": self.scratch_bytes, "macs": p.macs, "extra_macs": p.extra_macs,
                "retains_rows": p.retain,
                "fully_connected": self.tail.index if self.tail else None}


@dataclass
class StageParams:
    """What the stage's emitter needs: the stage and each member's prepared operator and emitter."""

    stage: Stage
    members: list[PreparedOp]
    emitters: list[OpEmitter]
    tail: PreparedOp | None = None


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


def _uses(sg: Subgraph) -> dict[int, list[tuple[int, int]]]:
    uses: dict[int, list[tuple[int, int]]] = {}
    for i, op in enumerate(sg.operators):
        for k, t in enumerate(op.inputs):
            if t >= 0:
                uses.setdefault(t, []).append((i, k))
    return uses


def chains(sg: Subgraph, prepared: list[PreparedOp], min_len: int = 2) -> list[list[int]]:
    """Maximal runs of consecutive patchable operators, each feeding only the next one (runs of
    at least ``min_len``)."""
    uses = _uses(sg)
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
    return [r for r in runs if len(r) >= min_len]


def fc_tail(sg: Subgraph, prepared: list[PreparedOp], memory: list[OpMemory], i: int) -> Tail | None:
    """The FULLY_CONNECTED operator ``i``'s output feeds, alone and through at most one view,
    when its C kernel can take the input in slices (int8, one batch row of exactly that
    output), else None."""
    uses, n = _uses(sg), len(sg.operators)
    t, j = sg.operators[i].outputs[0], i + 1
    if j < n and memory[j].view and t not in sg.outputs and uses.get(t) == [(j, 0)]:
        t, j = sg.operators[j].outputs[0], j + 1
    if j >= n or t in sg.outputs or uses.get(t) != [(j, 0)]:
        return None
    fc = prepared[j]
    if fc.ctx.op.opcode != "FULLY_CONNECTED" or not s8_supported(fc.ctx, fc.params):
        return None
    if fc.params.rows != 1 or fc.params.weights.shape[0] != sg.tensors[t].size:
        return None
    return Tail(j, int(fc.params.weights.shape[1]), s8_scratch(fc.params))


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
                                  [sg.operators[stage.end].outputs[0]]))
        mem.append(stage.memory())
        i = stage.end + 1
    return Subgraph(sg.tensors, operators, sg.inputs, sg.outputs, sg.name), mem


def _candidates(sg: Subgraph, prepared: list[PreparedOp], memory: list[OpMemory],
                chosen: list[Stage]) -> list[Stage]:
    taken = {i for s in chosen for i in range(s.first, s.end + 1)}
    fused, fused_mem = fuse(sg, memory, chosen)
    live = live_bytes_by_step(layout_memory(fused, fused_mem).buffers)
    peak_step = max(range(len(live)), key=lambda t: live[t]) if live else 0
    peak_op = _model_step(sg, chosen)[peak_step] if live else -1
    out = []
    for run in chains(sg, prepared, min_len=1):
        tail = fc_tail(sg, prepared, memory, run[-1])
        for a in range(len(run)):
            ends = [(b, None) for b in range(a + 1, min(len(run), a + MAX_MEMBERS))]
            if tail and len(run) - a <= MAX_MEMBERS:
                ends.append((len(run) - 1, tail))
            for b, t in ends:
                first, last = run[a], run[b]
                end = t.index if t else last
                if not first <= peak_op <= end or taken & set(range(first, end + 1)):
                    continue
                members = [row_geometry(prepared[i]) for i in range(first, last + 1)]
                scratch = max(memory[i].scratch for i in range(first, last + 1))
                for rows in ROWS_PER_BAND:
                    if rows >= members[-1].out_h:
                        break
                    for retain in RETAIN if len(members) > 1 else (False,):
                        patch = split_rows(members, rows, retain)
                        if all(c.in_h > 0 or not c.out_h for band in patch.bands for c in band):
                            out.append(Stage(first, last, patch, scratch, t))
    return out


def _model_step(sg: Subgraph, chosen: list[Stage]) -> list[int]:
    """For each step of the fused subgraph, the first unfused operator it runs."""
    starts = {s.first: s for s in chosen}
    steps, i = [], 0
    while i < len(sg.operators):
        steps.append(i)
        i = starts[i].end + 1 if i in starts else i + 1
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
        stage = params.stage
        patch = stage.patch
        base = e.scratch()
        kernel_scratch = (f"({base} + {stage.kernel_scratch_offset})"
                          if stage.kernel_scratch or stage.tail else None)
        last = len(patch.members) - 1
        band_buf = f"((int8_t *)({base} + {patch.scratch_bytes}))"
        acc = f"((int32_t *)({base} + {patch.scratch_bytes + stage.band_bytes}))"
        fc = self._tail_params(params, e)
        if fc:
            e.call(f"memset({acc}, 0, {4 * stage.tail.depth});")
        calls: dict[tuple[int, int, int, int], list[str]] = {}
        for band in patch.bands:
            e.call(f"/* rows {band[-1].out_first}..{band[-1].out_first + band[-1].out_h - 1} */")
            for c in band:
                m = patch.members[c.member]
                slot = f"((int8_t *)({base} + {patch.slot_offset(c.member)}))"
                if c.keep and c.move_from:  # rows computed in an earlier band, to the slot's start
                    e.call(f"memmove({slot}, {slot} + {c.move_from * m.out_row_bytes}, "
                           f"{c.keep * m.out_row_bytes});")
                if not c.out_h:
                    continue
                key = (c.member, c.in_h, c.out_h, c.pad_top)
                if key not in calls:
                    calls[key] = self._variant(params, c, e, kernel_scratch, len(calls))
                src = (f"({e.input_ptr(0)} + {c.in_first * m.in_row_bytes})" if c.member == 0
                       else f"((int8_t *)({base} + {patch.slot_offset(c.member - 1)}))")
                if c.member == last and fc:
                    dst = band_buf
                elif c.member == last:
                    dst = f"({e.output_ptr()} + {c.out_first * m.out_row_bytes})"
                else:
                    dst = f"({slot} + {c.keep * m.out_row_bytes})"
                for s in calls[key]:
                    e.call(s.replace(_IN, src).replace(_OUT, dst))
            if fc:
                c, m = band[-1], patch.members[-1]
                e.call(f"mf_fc_s8_accumulate({fc}, {band_buf}, {c.out_first * m.out_row_bytes}, "
                       f"{c.out_h * m.out_row_bytes}, (int16_t *){kernel_scratch}, {acc});")
        if fc:
            e.call(f"mf_fc_s8_finish({fc}, {acc}, {e.output_ptr()});")

    @staticmethod
    def _tail_params(params: StageParams, e: EmitContext) -> str | None:
        """The fused FULLY_CONNECTED's params (declared under the stage's prefix), or None."""
        if params.tail is None:
            return None
        sub = EmitContext(params.tail.ctx, e.pointer, prefix=f"{e.prefix}fc")
        p = s8_params(params.tail.ctx, params.tail.params, sub)
        e.consts += sub.consts
        e.structs += sub.structs
        e.use("mf_fully_connected")
        return p

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
