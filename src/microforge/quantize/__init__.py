"""Post-training quantization: float ``.tflite`` model + calibration data -> int8 (or 16x8) model
that TFLM runs.

Pipeline: graph preparation passes (:mod:`microforge.passes`), calibration through microforge's
own float runtime (:mod:`.calibration`), the TFLM quantization rules (:mod:`.rules`,
:mod:`.weights`, :mod:`.convert`) and the accuracy report (:mod:`.report`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microforge.errors import InputError, ModelError
from microforge.frontends import read_model
from microforge.ir import Graph
from microforge.passes import prepare
from microforge.quantize.calibration import METHODS, TensorStats, choose_range, collect
from microforge.quantize.convert import convert
from microforge.quantize.data import CalibrationSource, load_calibration
from microforge.quantize.equalize import equalize
from microforge.quantize.linear import LINEAR, LinearLayer, linear_layer
from microforge.quantize.lstm import cell_max, sequences
from microforge.quantize.mixed import choose_mixed
from microforge.quantize.report import LayerDetail, QuantReport
from microforge.quantize.rules import RULES, fixed_params, why_not_quantizable
from microforge.quantize.search import RangeChoice, activation_bounded_ranges, search_ranges
from microforge.quantize.tuning import WeightTuner

DEFAULT_METHOD = "auto"  # measured: see docs/quantize.md


IO_TYPES = ("int8", "float")


def _graph_of(model: Any) -> Graph:
    if isinstance(getattr(model, "graph", None), Graph):  # a microforge.Model
        return model.graph
    if isinstance(model, Graph):
        return model
    if isinstance(model, (str, os.PathLike, bytes, bytearray)):
        return read_model(bytes(model) if isinstance(model, bytearray) else model)
    raise InputError(f"model must be a path, bytes, a Model or a Graph, not {type(model).__name__}")


def _check_float(graph: Graph) -> None:
    sg = graph.main
    for t in sg.tensors:
        q = t.quant
        if t.dtype in (np.int8, np.uint8, np.int16) and q is not None and q.is_quantized:
            raise ModelError(f"the model is already quantized (tensor {t.name!r} is "
                             f"{t.dtype.name} with scale {q.scale[0]:g}); give the float model")
    if not any(t.dtype == np.float32 and not t.is_constant for t in sg.tensors):
        raise ModelError("the model has no float32 activations: nothing to quantize")


@dataclass
class Quantized:
    """What :func:`quantize_graph` made: the int8 (int16) graph, the prepared float graph it came
    from, which float tensor each quantized one stands for, the calibration inputs, the operators
    left in float, and the settings used."""

    graph: Graph
    float_graph: Graph
    origin: dict[int, int]
    calibration: list[np.ndarray]
    kept_float: list[str]
    settings: dict[str, Any]
    details: list[LayerDetail] = field(default_factory=list)
    mixed: dict[str, Any] = field(default_factory=dict)


def quantize_graph(
    model: Any,
    calibration_data: CalibrationSource,
    *,
    per_channel: bool = True,
    method: str = DEFAULT_METHOD,
    io: str = "int8",
    int16_activations: bool = False,
    allow_float: bool = False,
    percentile: float = 99.99,
    bias_correction: bool = True,
    optimize_rounding: bool | None = None,
    mixed: bool = False,
    max_ram: int | None = None,
    progress: bool | None = None,
    equalization: bool = True,
) -> Quantized:
    """Quantize a float model (a path, bytes, a Graph or a ``microforge.Model``) with
    post-training calibration; the options are those of :func:`microforge.quantize`."""
    if method not in METHODS:
        raise InputError(f"unknown calibration method {method!r}; choose one of {list(METHODS)}")
    if io not in IO_TYPES:
        raise InputError(f"io must be one of {list(IO_TYPES)}, not {io!r}")
    if not 50.0 < percentile <= 100.0:
        raise InputError(f"percentile must be in (50, 100], not {percentile}")
    if mixed and int16_activations:
        raise InputError("--mixed puts int16 activations on some layers; it does not go with "
                         "--int16-activations (all layers int16)")
    if mixed and (max_ram is None or max_ram <= 0):
        raise InputError("--mixed needs a RAM budget: give --max-ram BYTES (max_ram=...)")
    graph = _graph_of(model)
    _check_float(graph)
    prepared = prepare(graph)
    inputs = [prepared.main.tensors[i] for i in prepared.main.inputs]
    layout = graph.source
    perms = [layout.input_perm(k) for k in range(len(inputs))] if layout else []
    data = load_calibration(calibration_data, inputs, perms)
    if equalization and not int16_activations and per_channel:
        equalize(prepared, data)
    tuned = method == "auto" or bias_correction or optimize_rounding is not False
    linear_ops = _linear_ops(prepared) if tuned else {}
    lstms = _lstm_ops(prepared, int16_activations)
    stats = collect(prepared, data, keep=set(linear_ops.values()) | set(lstms.values()),
                    progress=progress)
    cells = {i: cell_max(prepared.main.operators[i], prepared.main,
                         sequences(prepared.main.operators[i], prepared.main, stats[t].whole))
             for i, t in lstms.items() if t in stats and stats[t].whole is not None}
    layers = {i: linear_layer(i, prepared.main, stats[t].whole) for i, t in linear_ops.items()
              if t in stats and stats[t].whole is not None}
    choices = _ranges(prepared, stats, layers, method, int16_activations, percentile, progress)
    for i in lstms:  # the output is fed back as the hidden state: clipping it would recirculate
        out = prepared.main.operators[i].outputs[0]
        if out in stats and method == "auto":
            r = choose_range(stats[out], "minmax")
            choices[out] = RangeChoice("minmax", r, {}, {"minmax": r})
    names = {i: prepared.main.tensors[prepared.main.operators[i].outputs[0]].name for i in layers}
    tuner = None
    if bias_correction or optimize_rounding is not False:
        tuner = WeightTuner(layers, names, bias_correction, optimize_rounding is not False,
                            progress=progress, small_only=optimize_rounding is None)
    def make(wide: set[int] | None = None):
        return convert(prepared, {t: c.range for t, c in choices.items()},
                       per_channel=per_channel, io=io, int16=int16_activations,
                       allow_float=allow_float, tuner=tuner, wide=wide, cells=cells)

    mixed_choice = None
    try:
        converted = make()
        if mixed:
            assert max_ram is not None
            converted, mixed_choice = choose_mixed(prepared, converted, make, data, max_ram,
                                                   progress)
    finally:
        if tuner is not None:
            tuner.close()
    settings = {"method": method, "weights": "per-channel" if per_channel else "per-tensor",
                "activations": "int16" if int16_activations else "int8", "io": io,
                "bias_correction": bias_correction,
                "rounding": {True: "learned", False: "nearest", None: "learned on small layers"}[
                    optimize_rounding]}
    if mixed_choice is not None:
        settings["activations"] = f"mixed int8/int16 (max RAM {max_ram:,} bytes)"
    wide = mixed_choice.wide if mixed_choice is not None else set()
    details = _details(prepared, choices, tuner, int16_activations, wide)
    return Quantized(converted.graph, prepared, converted.origin, data, converted.kept_float,
                     settings, details, {} if mixed_choice is None else mixed_choice.summary())


def _linear_ops(graph: Graph) -> dict[int, int]:
    """Weighted operators with float constant weights reading a float activation: index -> input."""
    sg = graph.main
    out = {}
    for i, op in enumerate(sg.operators):
        if op.opcode not in LINEAR or len(op.inputs) < 2:
            continue
        x, w = sg.tensor(op.inputs[0]), sg.tensor(op.inputs[1])
        if (x is not None and not x.is_constant and x.dtype == np.float32 and w is not None
                and w.is_constant and w.dtype == np.float32):
            out[i] = op.inputs[0]
    return out


def _lstm_ops(graph: Graph, int16: bool) -> dict[int, int]:
    """LSTM operators that the int8 LSTM rule quantizes: index -> input tensor."""
    sg = graph.main
    return {i: op.inputs[0] for i, op in enumerate(sg.operators)
            if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"
            and why_not_quantizable(op, sg, int16) is None}


def _ranges(graph: Graph, stats: dict[int, TensorStats], layers: dict[int, LinearLayer],
            method: str, int16: bool, percentile: float,
            progress: bool | None) -> dict[int, RangeChoice]:
    if method == "auto":
        fixed = {name: fixed_params(rule, int16) for name, rule in RULES.items()
                 if rule.kind == "fixed"}
        return search_ranges(graph, stats, layers, int16, progress, fixed)
    levels = 65536 if int16 else 256
    out = {i: RangeChoice(method, choose_range(s, method, levels, int16, percentile), {})
           for i, s in stats.items()}
    if method == "minmax":
        for t, bound in activation_bounded_ranges(graph).items():
            if t in out:
                out[t] = RangeChoice("bounded", bound, {})
    return out


def _details(graph: Graph, choices: dict[int, RangeChoice], tuner: WeightTuner | None,
             int16: bool, wide: set[int]) -> list[LayerDetail]:
    sg = graph.main
    writer = {t: i for i, op in enumerate(sg.operators) for t in op.outputs}
    records = tuner.records if tuner is not None else {}
    out = []
    for t in sorted(choices):
        if sg.tensors[t].is_variable:  # LSTM states: parameters set by the LSTM rule
            continue
        c, i = choices[t], writer.get(t)
        r = records.get(i) if i is not None else None
        opcode = sg.operators[i].opcode if i is not None else "input"
        rule = RULES.get(opcode)
        method = "fixed by TFLM" if rule is not None and rule.kind == "fixed" else c.method
        out.append(LayerDetail(
            sg.tensors[t].name, opcode, method, c.range, "int16" if int16 or t in wide else "int8",
            None if r is None else r.sqnr_nearest_db,
            None if r is None else r.sqnr_db, None if r is None else r.sqnr_corrected_db,
            None if r is None else r.rounding))
    return out


__all__ = ["DEFAULT_METHOD", "LayerDetail", "QuantReport", "Quantized", "activation_bounded_ranges",
           "quantize_graph"]
