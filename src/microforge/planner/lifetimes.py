"""Which bytes each tensor lives in, and for how long.

Tensors fall into storage classes: constants (flash), state (variable tensors, static RAM), the
caller's input and output buffers, and arena buffers. Views (RESHAPE, SQUEEZE, EXPAND_DIMS) share
their input's bytes. An in-place capable operator may write its output over its input when that
input dies at the operator (input 0, or any input an elementwise kernel names in
``inplace_inputs``: a residual ADD may take the bytes of whichever operand dies there): the kernel
states, as ``inplace_shift``, the largest byte offset of the
output's start relative to the input's start for which no output write lands on an input byte that
a later step still reads (0 for elementwise operators; negative when the output grows, e.g. a
pointwise convolution to more channels writes from below the input). Such an output buffer records
its input buffer and the shift; the placement (``greedy.place``) lets the two overlap only within
that bound, the shift rounded down to the arena's alignment (a bound of 108 bytes becomes 104).
Each arena buffer lives from the first operator that writes it to the last that reads
it; scratch buffers live during one operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from microforge.ir import Subgraph
from microforge.planner.plan import ALIGNMENT, Buffer


@dataclass
class OpMemory:
    """What an operator's kernel allows the planner to do."""

    view: bool = False  # output 0 is input 0's bytes reinterpreted
    inplace: bool = False  # output 0 may overlap an input of ``inplace_inputs`` that dies here
    inplace_shift: int = 0  # largest safe (output start - input start) in bytes, when inplace
    inplace_inputs: tuple[int, ...] = (0,)  # the inputs it may overlap, the first dying one taken
    scratch: int = 0  # bytes of scratch live during this operator only


@dataclass
class Storage:
    """Where a tensor's bytes are: kind is const | state | input | output | arena | none."""

    kind: str
    index: int = 0  # input/output position, or arena buffer id
    offset: int = 0  # byte offset inside the arena buffer


@dataclass
class MemoryLayout:
    storage: dict[int, Storage]
    buffers: list[Buffer]
    views: set[int] = field(default_factory=set)  # operators that are pure views (no code)
    inplace: dict[int, int] = field(default_factory=dict)  # operator -> output buffer allowed
    # to overlap its input (whether it does depends on the plan: ArenaPlan.overlapping)
    scratch: dict[int, int] = field(default_factory=dict)  # operator -> scratch buffer id


class _Groups:
    """Union-find over tensors; each member has a byte offset relative to its group."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.offset: dict[int, int] = {}  # offset relative to parent

    def find(self, t: int) -> int:
        self.parent.setdefault(t, t)
        self.offset.setdefault(t, 0)
        root, total = t, 0
        while self.parent[root] != root:
            total += self.offset[root]
            root = self.parent[root]
        return root

    def where(self, t: int) -> int:
        """Offset of t relative to its root."""
        self.find(t)
        total = 0
        while self.parent[t] != t:
            total += self.offset[t]
            t = self.parent[t]
        return total

    def union(self, a: int, b: int, shift: int = 0) -> None:
        """Put b's group into a's so that b sits ``shift`` bytes after a."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        self.parent[rb] = ra
        self.offset[rb] = self.where(a) + shift - self.where(b)

    def members(self, root: int) -> list[int]:
        return [t for t in self.parent if self.find(t) == root]


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
        found = [external[t] for t in groups.members(root) + [root] if t in external]
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
            for t in list(op.outputs) + [t for t in op.inputs if t >= 0]:
                if kind(t) != "activation":
                    continue
                root = groups.find(t)
                span = spans.setdefault(root, [i, i])
                span[0], span[1] = min(span[0], i), max(span[1], i)
        for t in sg.inputs:
            spans.setdefault(groups.find(t), [0, 0])[0] = 0
        for t in sg.outputs:
            spans.setdefault(groups.find(t), [n_ops - 1, n_ops - 1])[1] = n_ops - 1
        return spans

    spans = lifetimes()
    def dying_input(i: int, k: int) -> int | None:
        """The root of operator i's input k when its output may take that input's bytes."""
        op = sg.operators[i]
        if k >= len(op.inputs) or op.inputs[k] < 0 or kind(op.inputs[k]) != "activation":
            return None
        rs, rd = groups.find(op.inputs[k]), groups.find(op.outputs[0])
        if rs == rd or group_external(rs) is not None or group_external(rd) is not None:
            return None
        others = [t for j, t in enumerate(op.inputs) if j != k and t >= 0 and kind(t) == "activation"]
        if any(groups.find(t) == rs for t in others) or spans[rs][1] != i:
            return None
        return rs

    candidates: list[tuple[int, int, int, int]] = []  # (op, src root, dst root, shift)
    for i, (op, mem) in enumerate(zip(sg.operators, ops)):
        if not mem.inplace or i in views or not op.inputs:
            continue
        roots = [r for r in (dying_input(i, k) for k in mem.inplace_inputs) if r is not None]
        if roots:
            candidates.append((i, roots[0], groups.find(op.outputs[0]), mem.inplace_shift))

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
    inplace: dict[int, int] = {}
    for i, rs, rd, shift in candidates:
        src, dst = by_root.get(rs), by_root.get(rd)
        if src is not None and dst is not None:
            # offsets are multiples of ALIGNMENT: so is the usable shift (rounded down, which is
            # always safe: a smaller output-minus-input offset than the kernel's bound)
            dst.overlap_src, dst.overlap_shift = src.id, shift - shift % ALIGNMENT
            inplace[i] = dst.id
    scratch: dict[int, int] = {}
    for i, mem in enumerate(ops):
        if mem.scratch > 0:
            buf = Buffer(len(buffers), mem.scratch, i, i, scratch_of=i)
            buffers.append(buf)
            scratch[i] = buf.id
    return MemoryLayout(storage, buffers, views, inplace, scratch)
