"""The quantization part of the HTML report: per-operator SQNR and cosine of the quantized model's
outputs against the float model on calibration inputs (``quantize.report.compare``), worst
layers marked."""

from __future__ import annotations

import math

import numpy as np

from microforge.errors import InputError
from microforge.ir import Graph
from microforge.quantize.data import CalibrationSource, load_calibration
from microforge.quantize.report import QuantReport, compare

WORST = 3
_EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")


def match_tensors(quant: Graph, float_graph: Graph) -> dict[int, int]:
    """Quantized tensor -> float tensor for a model and its float twin: graph inputs in order,
    operator outputs by equal tensor name (the TFLite converter keeps them), else by position
    when both graphs list the same operators once QUANTIZE/DEQUANTIZE are set aside."""
    qsg, fsg = quant.main, float_graph.main
    origin = dict(zip(qsg.inputs, fsg.inputs))
    by_name = {fsg.tensors[t].name: t for op in fsg.operators for t in op.outputs}
    qops = [op for op in qsg.operators if op.opcode not in _EDGE_OPS]
    fops = [op for op in fsg.operators if op.opcode not in _EDGE_OPS]
    aligned = [o.opcode for o in qops] == [o.opcode for o in fops]
    for k, op in enumerate(qops):
        for j, t in enumerate(op.outputs):
            f = by_name.get(qsg.tensors[t].name)
            if f is None and aligned and j < len(fops[k].outputs):
                f = fops[k].outputs[j]
            if f is not None and fsg.tensors[f].shape == qsg.tensors[t].shape:
                origin[t] = f
    for op in qsg.operators:  # a DEQUANTIZE output stands for what its input stands for
        if op.opcode in _EDGE_OPS and op.inputs[0] in origin:
            origin.setdefault(op.outputs[0], origin[op.inputs[0]])
    if len(origin) <= len(qsg.inputs):
        raise InputError("--float: no operator output of the model matches the float model by name "
                         "or position; pass the float model the quantized one was converted from")
    return origin


def compare_twins(quant: Graph, float_graph: Graph, calibration: CalibrationSource) -> tuple[
        QuantReport, dict[int, int]]:
    """Measure ``quant`` against its float twin on ``calibration`` (float inputs)."""
    inputs = [float_graph.main.tensors[i] for i in float_graph.main.inputs]
    layout = float_graph.source
    perms = [layout.input_perm(k) for k in range(len(inputs))] if layout else []
    data = load_calibration(calibration, inputs, perms)
    origin = match_tensors(quant, float_graph)
    return compare(float_graph, quant, origin, data), origin


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else (1e9 if x > 0 else -1e9)


def quant_view(report: QuantReport, quant: Graph, float_graph: Graph, origin: dict[int, int]) -> dict:
    """Per operator of ``quant`` (model order): SQNR (dB) and cosine of its first output."""
    by_name = {t.name: t for t in report.tensors}
    fsg, qsg = float_graph.main, quant.main
    layers = []
    for i, op in enumerate(qsg.operators):
        if not op.outputs or op.outputs[0] not in origin:
            continue
        err = by_name.get(fsg.tensors[origin[op.outputs[0]]].name)
        if err is None or qsg.tensors[op.outputs[0]].dtype == np.float32 and op.opcode in _EDGE_OPS:
            continue
        layers.append({"op_index": i, "op": op.opcode, "tensor": qsg.tensors[op.outputs[0]].name,
                       "sqnr_db": _finite(err.sqnr_db), "cosine": float(err.cosine)})
    worst = max(1, min(WORST, len(layers) // 3))
    for rank, layer in enumerate(sorted(layers, key=lambda r: r["sqnr_db"])):
        layer["worst"] = rank < worst
    return {"samples": report.samples, "settings": {k: str(v) for k, v in report.settings.items()},
            "kept_float": list(report.kept_float), "layers": layers,
            "outputs": [{"name": t.name, "sqnr_db": _finite(t.sqnr_db), "cosine": float(t.cosine),
                         "top1": report.top1.get(t.name)} for t in report.outputs]}


def is_quantized(graph: Graph) -> bool:
    """True when any tensor of the main subgraph carries quantization parameters."""
    return any(t.quant is not None and t.quant.is_quantized for t in graph.main.tensors)


def measure(graph: Graph, calibration: CalibrationSource, float_graph: Graph | None) -> tuple[Graph, dict]:
    """The graph the report shows and its quantization view: a float ``graph`` is quantized
    (``quantize.quantize_graph``, default settings) and measured against itself; a quantized one
    against ``float_graph``."""
    from microforge.quantize import quantize_graph

    if float_graph is not None:
        if not is_quantized(graph):
            raise InputError("--float is for a quantized model; this model is float (give it "
                             "--calibration alone and the report quantizes it)")
        report, origin = compare_twins(graph, float_graph, calibration)
        return graph, quant_view(report, graph, float_graph, origin)
    if is_quantized(graph):
        raise InputError("--calibration on a quantized model needs its float model too: "
                         "--float FLOAT_MODEL")
    result = quantize_graph(graph, calibration, allow_float=True)
    report = compare(result.float_graph, result.graph, result.origin, result.calibration,
                     result.kept_float, result.settings)
    return result.graph, quant_view(report, result.graph, result.float_graph, result.origin)
