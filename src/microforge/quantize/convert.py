"""Rewrite a prepared float graph into an int8 (or 16x8) graph, given each float tensor's range.

Each float activation tensor gets a quantized version when a quantized operator reads or writes it
and a float version when a float operator (kept with ``allow_float``) or a float graph boundary
does; QUANTIZE / DEQUANTIZE operators convert between them right after the producer. With mixed
precision (``wide``: tensors whose parameter group takes int16 activations, the rest int8) an
operator runs in its output's type, and a tensor read by an operator of the other type gets a
version in that type too ("x"), made by a QUANTIZE (TFLM requantizes int8 <-> int16). Parameters
follow :mod:`microforge.quantize.rules`, so the result is what TFLM accepts by construction.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from microforge.errors import UnsupportedOpError
from microforge.ir import Graph, Operator, Subgraph, Tensor
from microforge.ir.builder import new_operator
from microforge.ir.quant import QuantParams
from microforge.passes import compact, producers
from microforge.quantize.groups import ParamGroups
from microforge.quantize.lstm import (
    BIASES,
    CELL_STATE,
    HIDDEN_STATE,
    INPUT_WEIGHTS,
    RECURRENT_WEIGHTS,
    cell_scale,
)
from microforge.quantize.rules import RULES, fixed_params, why_not_quantizable
from microforge.quantize.weights import Tune, activation_params, quantize_layer, quantize_values

Tuner = Callable[[int], Tune | None]


@dataclass
class Converted:
    """The quantized graph, where each of its tensors came from, and the operators kept float."""

    graph: Graph
    origin: dict[int, int]  # tensor of the new graph -> float tensor it approximates
    kept_float: list[str] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)  # float tensors sharing parameters
    fixed: list[bool] = field(default_factory=list)  # per group: parameters fixed by TFLM


class _Converter:
    def __init__(self, graph: Graph, ranges: dict[int, tuple[float, float]], per_channel: bool,
                 io: str, int16: bool, allow_float: bool, tuner: Tuner | None = None,
                 wide: set[int] | None = None, cells: dict[int, float] | None = None) -> None:
        self.graph, self.sg = graph, graph.main
        self.cells = cells or {}  # LSTM operator -> calibrated max |cell state|
        self.states: set[int] = set()  # LSTM state variables (quantized by the LSTM rule)
        self.ranges, self.per_channel, self.io, self.int16 = ranges, per_channel, io, int16
        self.act_dtype = np.dtype(np.int16 if int16 else np.int8)
        self.allow_float = allow_float
        self.tuner = tuner
        self.wide, self._wide_roots = set(wide or ()), set()
        self.tensors: list[Tensor] = [copy.copy(t) for t in self.sg.tensors]
        self.ops: list[Operator] = []
        self.origin: dict[int, int] = {}
        self.versions: dict[int, dict[str, int]] = {}
        self.groups = ParamGroups()
        self.requant: dict[tuple[int, int], int] = {}
        self._members: dict[int, list[int]] = {}

    # -- analysis ---------------------------------------------------------------------------
    def is_act(self, t: int) -> bool:
        return (t >= 0 and self.sg.tensors[t].dtype == np.float32
                and not self.sg.tensors[t].is_constant and t not in self.states)

    def classify(self) -> tuple[set[int], list[str]]:
        quantized, kept = set(), []
        for i, op in enumerate(self.sg.operators):
            ts = [self.sg.tensors[t] for t in op.inputs + op.outputs if t >= 0]
            if not any(t.dtype == np.float32 for t in ts):
                continue
            why = why_not_quantizable(op, self.sg, self.int16)
            if why is None and RULES[op.opcode].kind == "weighted" and not self.is_act(op.inputs[0]):
                why = "input is not an activation"
            if why is None:
                quantized.add(i)
            else:
                kept.append(f"{op.opcode} (operator {i}: {why})")
        if kept and not self.allow_float:
            raise UnsupportedOpError(
                "cannot quantize " + ", ".join(kept)
                + "; pass --allow-float (allow_float=True) to keep them in float")
        return quantized, kept

    def build_groups(self, quantized: set[int]) -> None:
        g = self.groups
        for i in sorted(quantized):
            op = self.sg.operators[i]
            rule, out = RULES[op.opcode], op.outputs[0]
            g.find(out)
            acts = [(pos, t) for pos, t in enumerate(op.inputs) if self.is_act(t)]
            for _, t in acts:
                g.find(t)
            if rule.kind == "fixed":
                g.fix(out, fixed_params(rule, self.int16))
            elif rule.kind == "same" and not rule.multi:
                g.union(acts[0][1], out)
            elif rule.kind == "same":
                fixed = [(pos, t) for pos, t in acts if g.fixed(t) is not None]
                free = [(pos, t) for pos, t in acts if g.fixed(t) is None]
                if not free and len({g.fixed(t) for _, t in fixed}) == 1:
                    for _, t in fixed:
                        g.union(t, out)
                    continue
                for _, t in free:
                    g.union(t, out)
                for pos, t in fixed:
                    self.requant[(i, pos)] = out
                    scale, zp = g.fixed(t)
                    info = np.iinfo(self.act_dtype)
                    g.add_range(out, scale * (info.min - zp), scale * (info.max - zp))
            if rule.kind == "same":
                for t in op.inputs:
                    c = self.sg.tensor(t)
                    if c is not None and c.is_constant and c.dtype == np.float32 and c.size:
                        g.add_range(out, float(c.data.min()), float(c.data.max()))

    def is_wide(self, t: int) -> bool:
        """Whether tensor ``t``'s own integer version is int16."""
        return self.int16 or self.groups.find(t) in self._wide_roots

    def op_wide(self, i: int) -> bool:
        return self.is_wide(self.sg.operators[i].outputs[0])

    def dtype(self, wide: bool) -> np.dtype:
        return np.dtype(np.int16 if wide else np.int8)

    def params(self, t: int, wide: bool | None = None) -> tuple[float, int]:
        """(scale, zero point) of ``t``'s integer version in its own type, or int16 / int8."""
        wide = self.is_wide(t) if wide is None else wide
        root = self.groups.find(t)
        fixed = self.groups.fixed(root)
        if fixed is not None:
            if wide == self.int16:
                return fixed
            scale, zp = fixed
            info = np.iinfo(self.act_dtype)
            return activation_params(scale * (info.min - zp), scale * (info.max - zp), wide)
        spans = [self.ranges[m] for m in self._members.get(root, [root]) if m in self.ranges]
        spans += self.groups.extra(root)
        lo = min((s[0] for s in spans), default=0.0)
        hi = max((s[1] for s in spans), default=0.0)
        return activation_params(lo, hi, wide)

    # -- tensors ----------------------------------------------------------------------------
    def _quant(self, scale: float, zp: int) -> QuantParams:
        return QuantParams(scale=np.array([scale], np.float32), zero_point=np.array([zp]))

    def _new_tensor(self, like: Tensor, name: str, dtype, quant: QuantParams | None,
                    data: np.ndarray | None = None) -> int:
        if data is not None:
            data = np.ascontiguousarray(data)
            data.flags.writeable = False
        if data is None:
            tensor = Tensor(name=name, shape=like.shape, dtype=np.dtype(dtype), quant=quant,
                            shape_signature=like.shape_signature)
        else:
            tensor = Tensor(name=name, shape=data.shape, dtype=np.dtype(dtype), quant=quant,
                            data=data)
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def _make_q(self, t: int, index: int | None, wide: bool | None = None) -> int:
        src = self.sg.tensors[t]
        wide = self.is_wide(t) if wide is None else wide
        dtype = self.dtype(wide)
        quant = self._quant(*self.params(t, wide))
        if index is None:
            return self._new_tensor(src, f"{src.name}_{dtype.name}", dtype, quant)
        self.tensors[index] = Tensor(name=src.name, shape=src.shape, dtype=dtype,
                                     quant=quant, shape_signature=src.shape_signature)
        return index

    def assign_versions(self, quantized: set[int]) -> dict[int, str]:
        sg, writers = self.sg, producers(self.sg)
        io_domain = "q" if self.io == "int8" else "f"
        home: dict[int, str] = {}
        need: dict[int, set[str]] = {}
        for t in range(len(sg.tensors)):
            if not self.is_act(t):
                continue
            if t in sg.inputs:
                home[t] = io_domain
            else:
                home[t] = "q" if writers.get(t) in quantized else "f"
            need[t] = {home[t]}
            if t in sg.outputs:
                need[t].add(io_domain)
        for i, op in enumerate(sg.operators):
            for t in op.inputs:
                if self.is_act(t):
                    need[t].add("f" if i not in quantized
                                else "q" if self.is_wide(t) == self.op_wide(i) else "x")
        for t, domains in need.items():
            boundary = io_domain if (t in sg.inputs or t in sg.outputs) else home[t]
            self.versions[t] = {}
            for d in sorted(domains, key=lambda d: d != boundary):
                index = t if d == boundary else None
                if d == "q":
                    self.versions[t]["q"] = self._make_q(t, index)
                elif d == "x":
                    self.versions[t]["x"] = self._make_q(t, None, not self.is_wide(t))
                elif index is None:
                    src = sg.tensors[t]
                    self.versions[t]["f"] = self._new_tensor(src, f"{src.name}_float",
                                                             np.float32, None)
                else:
                    self.versions[t]["f"] = t
            for v in self.versions[t].values():
                self.origin[v] = t
        return home

    # -- operators --------------------------------------------------------------------------
    def _conversions(self, t: int, home: str) -> None:
        src = self.versions[t][home]
        for d, v in self.versions[t].items():
            if d != home:
                self.ops.append(new_operator("QUANTIZE" if d in "qx" else "DEQUANTIZE", [src], [v]))

    def _requantized(self, t: int, target: int) -> int:
        src = self.sg.tensors[t]
        v = self._new_tensor(src, f"{src.name}_requantized", self.dtype(self.is_wide(target)),
                             self._quant(*self.params(target)))
        self.ops.append(new_operator("QUANTIZE", [self.versions[t]["q"]], [v]))
        return v

    def _constant(self, t: int, params: tuple[float, int] | None, wide: bool) -> int:
        c = self.sg.tensors[t]
        if params is None:
            lo, hi = float(c.data.min(initial=0.0)), float(c.data.max(initial=0.0))
            params = activation_params(lo, hi, wide)
        data = quantize_values(c.data, params[0], params[1], self.dtype(wide))
        return self._new_tensor(c, c.name, self.dtype(wide), self._quant(*params), data)

    def _weighted(self, i: int, op: Operator, new: Operator) -> None:
        sg = self.sg
        rule = RULES[op.opcode]
        w = sg.tensors[op.inputs[1]]
        b = sg.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
        in_scale = self.params(op.inputs[0], self.op_wide(i))[0]
        bias_dtype = np.int64 if self.op_wide(i) else np.int32
        per_channel = self.per_channel and rule.per_channel
        data = w.data if rule.per_channel else w.data.reshape(1, -1)  # PRELU alpha: any shape
        tune = self.tuner(i) if self.tuner is not None and rule.per_channel else None
        bias = None if b is None else b.data
        if bias is None and tune is not None and getattr(self.tuner, "bias_correction", False):
            bias = np.zeros(w.shape[rule.weight_axis], np.float32)  # a bias to correct
        layer = quantize_layer(data, bias, rule.weight_axis, per_channel, in_scale, bias_dtype, tune)
        weights = layer.weights.reshape(w.shape)
        new.inputs[1] = self._new_tensor(w, w.name, np.int8, layer.weight_quant, weights)
        if layer.bias is not None:
            index = self._new_tensor(w, b.name if b is not None else f"{w.name}_bias", bias_dtype,
                                     layer.bias_quant, layer.bias)
            if len(new.inputs) > 2:
                new.inputs[2] = index
            else:
                new.inputs.append(index)

    def _lstm(self, i: int, op: Operator, new: Operator) -> None:
        """The int8 LSTM's weights, biases and state variables (:mod:`.lstm`)."""
        sg = self.sg
        in_scale = self.params(op.inputs[0])[0]
        for positions, biases in ((INPUT_WEIGHTS, BIASES), (RECURRENT_WEIGHTS, (None,) * 4)):
            for pos, bpos in zip(positions, biases):
                w = sg.tensors[op.inputs[pos]]
                b = None if bpos is None else sg.tensors[op.inputs[bpos]]
                layer = quantize_layer(w.data, None if b is None else b.data, 0, False, in_scale,
                                       np.int32)
                new.inputs[pos] = self._new_tensor(w, w.name, np.int8, layer.weight_quant,
                                                   layer.weights)
                if b is not None:
                    new.inputs[bpos] = self._new_tensor(b, b.name, np.int32, layer.bias_quant,
                                                        layer.bias)
        hidden, cell = (sg.tensors[op.inputs[p]] for p in (HIDDEN_STATE, CELL_STATE))
        for pos, like, dtype, params in (
                (HIDDEN_STATE, hidden, np.int8, self.params(op.outputs[0])),
                (CELL_STATE, cell, np.int16, (cell_scale(self.cells.get(i, 0.0)), 0))):
            self.tensors.append(Tensor(name=like.name, shape=like.shape, dtype=np.dtype(dtype),
                                       quant=self._quant(*params), is_variable=True,
                                       shape_signature=like.shape_signature))
            new.inputs[pos] = len(self.tensors) - 1

    def _quantized_op(self, i: int, op: Operator) -> Operator:
        new = copy.deepcopy(op)
        rule = RULES[op.opcode]
        wide = self.op_wide(i)
        for pos, t in enumerate(op.inputs):
            if self.is_act(t):
                target = self.requant.get((i, pos))
                key = "q" if self.is_wide(t) == wide else "x"
                new.inputs[pos] = (self.versions[t][key] if target is None
                                   else self._requantized(t, target))
            elif (t >= 0 and self.sg.tensors[t].dtype == np.float32
                  and rule.kind not in ("weighted", "lstm")):
                same = rule.kind == "same"
                new.inputs[pos] = self._constant(t, self.params(op.outputs[0]) if same else None,
                                                 wide)
        if rule.kind == "weighted":
            self._weighted(i, op, new)
        elif rule.kind == "lstm":
            self._lstm(i, op, new)
        new.outputs = [self.versions[t]["q"] if self.is_act(t) else t for t in op.outputs]
        if "pot_scale_int16" in new.options:
            new.options["pot_scale_int16"] = False
        return new

    def run(self) -> Converted:
        sg = self.sg
        quantized, kept = self.classify()
        self.states = {self.sg.operators[i].inputs[p] for i in quantized
                       if RULES[self.sg.operators[i].opcode].kind == "lstm"
                       for p in (HIDDEN_STATE, CELL_STATE)}
        self.build_groups(quantized)
        self._members = self.groups.members()
        self._wide_roots = {self.groups.find(t) for t in self.wide}
        home = self.assign_versions(quantized)
        for t in sg.inputs:
            if t in self.versions:
                self._conversions(t, home[t])
        for i, op in enumerate(sg.operators):
            if i in quantized:
                new = self._quantized_op(i, op)
            else:
                new = copy.deepcopy(op)
                new.inputs = [self.versions[t]["f"] if self.is_act(t) else t for t in op.inputs]
                new.outputs = [self.versions[t]["f"] if self.is_act(t) else t
                               for t in op.outputs]
            self.ops.append(new)
            for t in op.outputs:
                if t in self.versions:
                    self._conversions(t, home[t])
        metadata = {k: v for k, v in self.graph.metadata.items()
                    if k not in ("CONVERSION_METADATA", "min_runtime_version")}
        out = Graph(subgraphs=[Subgraph(self.tensors, self.ops, list(sg.inputs),
                                        list(sg.outputs), name=sg.name)],
                    description="microforge quantize", version=self.graph.version,
                    metadata=metadata, signatures=copy.deepcopy(self.graph.signatures))
        compact_map = _compact_with_map(out)
        origin = {compact_map[k]: v for k, v in self.origin.items() if k in compact_map}
        groups = list(self._members.items())
        return Converted(out, origin, kept, [m for _, m in groups],
                         [self.groups.fixed(r) is not None for r, _ in groups])


def _compact_with_map(graph: Graph) -> dict[int, int]:
    """Compact ``graph`` and return old tensor index -> new index (for the tensors kept)."""
    ids = [id(t) for t in graph.main.tensors]
    compact(graph)
    where = {id(t): k for k, t in enumerate(graph.main.tensors)}
    return {old: where[i] for old, i in enumerate(ids) if i in where}


def convert(graph: Graph, ranges: dict[int, tuple[float, float]], per_channel: bool = True,
            io: str = "int8", int16: bool = False, allow_float: bool = False,
            tuner: Tuner | None = None, wide: set[int] | None = None,
            cells: dict[int, float] | None = None) -> Converted:
    """Quantize a prepared float ``graph`` given the calibrated range of each float tensor;
    ``tuner(op_index)`` may give a weighted operator a tuning function (see
    :func:`microforge.quantize.weights.quantize_layer`); ``wide`` names tensors whose parameter
    group takes int16 activations in an otherwise int8 graph (see :mod:`.mixed`); ``cells`` gives
    each LSTM operator's calibrated max |cell state| (see :mod:`.lstm`)."""
    return _Converter(graph, ranges, per_channel, io, int16, allow_float, tuner, wide, cells).run()

