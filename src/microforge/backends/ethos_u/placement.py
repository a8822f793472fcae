"""Per original operator: where Vela put it, why (for a CPU operator) and what it costs.

Vela's operator database (``--show-cpu-operations`` / ``--verbose-performance`` data) has a
``source`` table (one row per operator of the input model; ``ext_key`` is its index), a ``perf``
table (one row per pass, with the ``source_id`` it came from and its cycle estimate), a ``queue``
table (the passes that ended up in a command stream) and a ``group`` table (passes fused into
another). An original operator runs on the NPU when one of its passes is in a command stream or
fused into one; this is how Vela's own ``--show-cpu-operations`` decides. An operator with no pass
at all was folded away (a RESHAPE inside an NPU subgraph) and counts as NPU, 0 cycles. Vela's reasons are the
``Warning (supported operators)`` blocks it prints; they name the operator type and its output
tensor, and are matched to the CPU operators by type and output name, in model order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from microforge.backends.ethos_u.vela import VelaOutput
from microforge.ir import Graph

_WARNING = re.compile(r"Warning \(supported operators\) operator: (\S+), ofm: '(.*)'")
NO_REASON = "Vela left it on the CPU (it printed no reason)"


@dataclass(frozen=True)
class OpPlacement:
    """One operator of the input model as Vela compiled it."""

    index: int
    opcode: str
    name: str  # its first output tensor's name
    target: str  # "npu" or "cpu"
    reason: str  # Vela's reason for a CPU operator ("" on the NPU)
    cycles: int  # Vela's estimate for the passes this operator became (0 on the CPU)
    npu_cycles: int
    macs: int

    def to_dict(self) -> dict:
        return {"index": self.index, "op": self.opcode, "name": self.name, "target": self.target,
                "reason": self.reason, "cycles": self.cycles, "npu_cycles": self.npu_cycles,
                "macs": self.macs}


def _rows(out: VelaOutput, table: str) -> list[dict[str, str]]:
    if table not in out.tables:
        return []
    header, data = out.tables[table]
    return [dict(zip(header, row)) for row in data]


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def parse_reasons(log: str) -> list[tuple[str, str, str]]:
    """(operator type, output name, reason) for every CPU-operator warning Vela printed."""
    found = []
    for block in re.split(r"\n\s*\n", log):
        lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        m = _WARNING.match(lines[0])
        if m is None:
            continue
        text = " ".join(lines[1:])
        text = text[len("Reason:"):].strip() if text.startswith("Reason:") else text
        found.append((m.group(1).upper(), m.group(2), text or NO_REASON))
    return found


def placements(graph: Graph, out: VelaOutput) -> list[OpPlacement]:
    """One :class:`OpPlacement` per operator of ``graph.main`` (the model Vela was given)."""
    sg = graph.main
    source_of_key = {_int(r["ext_key"]): r["id"] for r in _rows(out, "source") if "ext_key" in r}
    on_npu_ids = {r["optimised_id"] for r in _rows(out, "queue")}
    grouped = {r["id"] for r in _rows(out, "group")}
    perf: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in _rows(out, "perf"):
        perf[r["source_id"]].append(r)
    reasons: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for opcode, ofm, why in parse_reasons(out.log):
        reasons[opcode].append((ofm, why))
    rows = []
    for i, op in enumerate(sg.operators):
        name = sg.tensors[op.outputs[0]].name if op.outputs else ""
        passes = perf.get(source_of_key.get(i, ""), [])
        npu = [p for p in passes if p["optimised_id"] in on_npu_ids or p["id"] in grouped]
        reason = ""
        if passes and not npu:
            reason = _take_reason(reasons[op.opcode.upper()], name, strict=False)
        elif not passes:  # folded away (a reshape inside an NPU subgraph) unless Vela objected
            reason = _take_reason(reasons[op.opcode.upper()], name, strict=True)
        rows.append(OpPlacement(
            index=i, opcode=op.opcode, name=name, target="cpu" if reason else "npu", reason=reason,
            cycles=sum(_int(p.get("op_cycles", "0")) for p in npu),
            npu_cycles=sum(_int(p.get("npu_cycles", "0")) for p in npu),
            macs=sum(_int(p.get("mac_count", "0")) for p in npu)))
    return rows


def _take_reason(candidates: list[tuple[str, str]], name: str, strict: bool) -> str:
    """The first warning for this operator type whose output name is this operator's (Vela may
    suffix it, e.g. ``_act``), else (unless ``strict``) the first for the type; each warning is
    used once. "" when ``strict`` and none matches."""
    for k, (ofm, why) in enumerate(candidates):
        if ofm == name or (name and ofm.startswith(name)):
            del candidates[k]
            return why
    if strict:
        return ""
    return candidates.pop(0)[1] if candidates else NO_REASON
