"""Mixed precision (``--mixed --max-ram BYTES``): int16 activations (TFLM's 16x8 kernels: int16
activations, int8 weights, int64 bias) on the parameter groups whose int8 SQNR is worst, as long
as the activation RAM stays within a budget; everything else stays int8.

A group can go int16 when every quantized operator writing it has a TFLM int16 kernel (the
operator table's ``QuantRule.int16``), its parameters are not fixed by TFLM (SOFTMAX, LOGISTIC,
TANH outputs stay int8) and it holds no graph input or output (the model's interface stays as
asked). Groups are tried from the lowest SQNR of the int8 model on the calibration data; one is
kept when the model's activation RAM (:func:`activation_ram`) still fits the budget and the worst
output's SQNR on the calibration data improves (the int8 <-> int16 QUANTIZE operators at the
group's edges round once more, which can cost more than the wider type gains). Operators
reading a tensor of the other type get a QUANTIZE (int8 <-> int16 requantization, which TFLM
runs) in front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from microforge.ir import Graph
from microforge.passes import producers
from microforge.planner.best_fit import plan_best
from microforge.planner.lifetimes import OpMemory, layout_memory
from microforge.quantize.convert import Converted
from microforge.quantize.progress import Progress
from microforge.quantize.report import compare
from microforge.quantize.rules import RULES, why_not_quantizable

MAX_TRIES = 12  # groups tried, worst SQNR first
REPORT_SAMPLES = 64  # calibration samples the SQNR before/after is measured on


def activation_ram(graph: Graph) -> int:
    """Bytes of activation RAM: microforge's best-fit arena plan of the non-constant tensors
    (no in-place reuse, no kernel scratch) plus the input and output buffers."""
    sg = graph.main
    layout = layout_memory(sg, [OpMemory() for _ in sg.operators])
    arena = plan_best(layout.buffers).size if layout.buffers else 0
    io = sum(sg.tensors[t].nbytes for t in set(sg.inputs) | set(sg.outputs))
    return arena + io


@dataclass
class MixedChoice:
    """What ``--mixed`` did: the tensors that went int16, RAM and output SQNR (calibration data)
    of the all-int8 and the mixed model."""

    wide: set[int] = field(default_factory=set)
    layers: list[str] = field(default_factory=list)
    ram_int8: int = 0
    ram_mixed: int = 0
    max_ram: int = 0
    sqnr_int8_db: float = 0.0
    sqnr_mixed_db: float = 0.0

    def summary(self) -> dict[str, object]:
        return {"max_ram": self.max_ram, "ram_int8": self.ram_int8, "ram_mixed": self.ram_mixed,
                "ram_cost": self.ram_mixed - self.ram_int8,
                "output_sqnr_int8_db": round(self.sqnr_int8_db, 2),
                "output_sqnr_mixed_db": round(self.sqnr_mixed_db, 2),
                "int16_layers": len(self.layers), "layers": self.layers}


def _eligible(graph: Graph, group: list[int], fixed: bool) -> bool:
    sg = graph.main
    if fixed or any(t in sg.inputs or t in sg.outputs for t in group):
        return False
    writers = producers(sg)
    for t in group:
        i = writers.get(t)
        if i is None:
            return False
        op = sg.operators[i]
        if why_not_quantizable(op, sg, True) is not None or RULES[op.opcode].kind == "fixed":
            return False
    return True


def _worst_output(report) -> float:
    return min((t.sqnr_db for t in report.outputs), default=float("inf"))


def choose_mixed(float_graph: Graph, base: Converted, make: Callable[[set[int]], Converted],
                 data: list[np.ndarray], max_ram: int,
                 progress: bool | None = False) -> tuple[Converted, MixedChoice]:
    """Greedy int16 groups within ``max_ram`` bytes; ``make(wide)`` converts with those tensors'
    groups in int16 and ``base`` is the all-int8 conversion."""
    sample = [a[:REPORT_SAMPLES] for a in data]
    before = compare(float_graph, base.graph, base.origin, sample)
    by_name = {t.name: t.sqnr_db for t in before.tensors}
    names = [t.name for t in float_graph.main.tensors]
    ranked = sorted(
        (min(by_name.get(names[t], np.inf) for t in g), k)
        for k, (g, fixed) in enumerate(zip(base.groups, base.fixed))
        if _eligible(float_graph, g, fixed))
    choice = MixedChoice(ram_int8=activation_ram(base.graph), max_ram=max_ram)
    best, current = base, _worst_output(before)
    with Progress("choosing int16 layers", min(MAX_TRIES, len(ranked)), progress) as bar:
        for _, k in ranked[:MAX_TRIES]:
            trial = choice.wide | set(base.groups[k])
            converted = make(trial)
            if activation_ram(converted.graph) <= max_ram:
                sqnr = _worst_output(compare(float_graph, converted.graph, converted.origin,
                                             sample))
                if sqnr > current:
                    choice.wide, best, current = trial, converted, sqnr
            bar.update()
    choice.ram_mixed = activation_ram(best.graph)
    choice.layers = sorted(names[t] for t in choice.wide)
    choice.sqnr_int8_db = _worst_output(before)
    choice.sqnr_mixed_db = current
    return best, choice
