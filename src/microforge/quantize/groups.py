"""Quantization-parameter groups: tensors that TFLM requires to carry identical parameters
(a pooling's input and output, a concatenation's inputs and output, ...) are joined with
union-find; a group's range is the union of its members' ranges, or the fixed parameters an
operator such as SOFTMAX imposes."""

from __future__ import annotations


class ParamGroups:
    def __init__(self) -> None:
        self._parent: dict[int, int] = {}
        self._fixed: dict[int, tuple[float, int]] = {}
        self._extra: dict[int, list[tuple[float, float]]] = {}

    def find(self, t: int) -> int:
        root = self._parent.setdefault(t, t)
        while root != self._parent[root]:
            root = self._parent[root]
        while self._parent[t] != root:
            self._parent[t], t = root, self._parent[t]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if rb in self._fixed:
            ra, rb = rb, ra
        self._parent[rb] = ra
        if rb in self._fixed:
            self._fixed.setdefault(ra, self._fixed.pop(rb))
        self._extra.setdefault(ra, []).extend(self._extra.pop(rb, []))

    def fix(self, t: int, params: tuple[float, int]) -> None:
        self._fixed[self.find(t)] = params

    def fixed(self, t: int) -> tuple[float, int] | None:
        return self._fixed.get(self.find(t))

    def add_range(self, t: int, lo: float, hi: float) -> None:
        """Widen ``t``'s group by a range (a constant or requantized member)."""
        self._extra.setdefault(self.find(t), []).append((lo, hi))

    def members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for t in list(self._parent):
            out.setdefault(self.find(t), []).append(t)
        return out

    def extra(self, root: int) -> list[tuple[float, float]]:
        return self._extra.get(root, [])
