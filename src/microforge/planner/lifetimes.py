"""Which bytes each tensor lives in, and for how long.

Tensors fall into storage classes: constants (flash), state (variable tensors, static RAM), the
caller's input and output buffers, and arena buffers. Views (RESHAPE, SQUEEZE, EXPAND_DIMS) share
their input's bytes; an in-place capable operator shares its input's bytes when that input dies at
the operator. Each arena buffer lives from the first operator that writes it to the last that reads
it; scratch buffers live during one operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from microforge.ir import Subgraph
from microforge.planner.plan import Buffer


@dataclass
class OpMemory:
    """What an operator's kernel allows the planner to do."""

    view: bool = False  # output 0 is input 0's bytes reinterpreted
    inplace: bool = False  # output 0 may overwrite input 0 when input 0 dies here
    scratch: int = 0  # bytes of scratch live during this operator only


@dataclass
class Storage:
    """Where a tensor's bytes are: kind is const | state | input | output | arena | none."""

    kind: str
    index: int = 0  # input/output position, or arena buffer id


@dataclass
class MemoryLayout:
    storage: dict[int, Storage]
    buffers: list[Buffer]
    views: set[int] = field(default_factory=set)  # operators that are pure views (no code)
    inplace: set[int] = field(default_factory=set)  # operators running in place
    scratch: dict[int, int] = field(default_factory=dict)  # operator -> scratch buffer id


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, t: int) -> int:
        self.parent.setdefault(t, t)
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(b)] = self.find(a)


def layout_memory(sg: Subgraph, ops: list[OpMemory]) -> MemoryLayout:
    n_ops = len(sg.operators)
    external: dict[int, Storage] = {}
    for k, t in enumerate(sg.inputs):
        external[t] = Storage("input", k)
    for k, t in enumerate(sg.outputs):
        external.setdefault(t, Storage("output", k))
    groups = _Groups()

    def kind(t: int) -> str:
        tensor = sg.tensors[t]
        if tensor.is_variable:
            return "state"
        if tensor.data is not None:
            return "const"
        return "activation"

    def group_external(root: int) -> Storage | None:
        found = [external[t] for t in list(groups.parent) + [root]
                 if t in external and groups.find(t) == root]
        return found[0] if found else None

    views: set[int] = set()
    for i, (op, mem) in enumerate(zip(sg.operators, ops)):
        if not mem.view or not op.inputs or op.inputs[0] < 0:
            continue
        src, dst = op.inputs[0], op.outputs[0]
        if kind(src) != "activation":
            continue
        a, b = group_external(groups.find(src)), group_external(groups.find(dst))
        if a is not None and b is not None:
            continue  # two caller buffers: the view becomes a copy
        groups.union(src, dst)
        views.add(i)

    def lifetimes() -> dict[int, list[int]]:
        spans: dict[int, list[int]] = {}
        for i, op in enumerate(sg.operators):
            for t in op.outputs:
                root = groups.find(t)
                span = spans.setdefault(root, [i, i])
                span[0], span[1] = min(span[0], i), max(span[1], i)
            for t in op.inputs:
                if t >= 0 and kind(t) == "activation":
                    root = groups.find(t)
                    span = spans.setdefault(root, [i, i])
                    span[0], span[1] = min(span[0], i), max(span[1], i)
        for t in sg.inputs:
            spans.setdefault(groups.find(t), [0, 0])[0] = 0
        for t in sg.outputs:
            spans.setdefault(groups.find(t), [n_ops - 1, n_ops - 1])[1] = n_ops - 1
        return spans

    spans = lifetimes()
    inplace: set[int] = set()
    for i, (op, mem) in enumerate(zip(sg.operators, ops)):
        if not mem.inplace or i in views or not op.inputs or op.inputs[0] < 0:
            continue
        src, dst = op.inputs[0], op.outputs[0]
        if kind(src) != "activation" or src in op.inputs[1:]:
            continue
        rs, rd = groups.find(src), groups.find(dst)
        if group_external(rs) is not None or group_external(rd) is not None:
            continue
        if spans[rs][1] != i or sg.tensors[dst].nbytes > max(
            sg.tensors[t].nbytes for t in groups.parent if groups.find(t) == rs
        ):
            continue
        groups.union(src, dst)
        inplace.add(i)
        spans = lifetimes()

    storage: dict[int, Storage] = {}
    buffers: list[Buffer] = []
    by_root: dict[int, Buffer] = {}
    for t, tensor in enumerate(sg.tensors):
        k = kind(t)
        if k in ("const", "state"):
            storage[t] = Storage(k)
            continue
        root = groups.find(t)
        ext = group_external(root)
        if ext is not None:
            storage[t] = ext
            continue
        if root not in spans:
            storage[t] = Storage("none")
            continue
        buf = by_root.get(root)
        if buf is None:
            buf = Buffer(len(buffers), 0, spans[root][0], spans[root][1])
            by_root[root] = buf
            buffers.append(buf)
        buf.size = max(buf.size, tensor.nbytes)
        buf.tensors.append(t)
        storage[t] = Storage("arena", buf.id)
    scratch: dict[int, int] = {}
    for i, mem in enumerate(ops):
        if mem.scratch > 0:
            buf = Buffer(len(buffers), mem.scratch, i, i, scratch_of=i)
            buffers.append(buf)
            scratch[i] = buf.id
    return MemoryLayout(storage, buffers, views, inplace, scratch)
