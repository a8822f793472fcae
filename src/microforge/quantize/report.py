"""How much the quantized model loses: per-tensor SQNR and cosine similarity against the float
model on the same inputs, per-output SQNR, top-1 agreement of classifier outputs, worst layers."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from microforge.ir import Graph
from microforge.passes import producers
from microforge.runtime.interpreter import Executor

BATCH = 64


@dataclass
class TensorError:
    """Error of one tensor of the quantized model against its float counterpart."""

    name: str
    op: str  # producing operator ("input" for graph inputs)
    sqnr_db: float
    cosine: float


@dataclass
class LayerDetail:
    """How one float tensor was quantized: the range method chosen (``auto`` picks one per
    tensor), the range, the activation type, and for the output of a weighted layer the output
    SQNR that weight rounding alone leaves on the calibration patches: round to nearest, the
    rounding used (learned with ``optimize_rounding``), and after bias correction."""

    name: str
    op: str
    method: str
    range: tuple[float, float]
    dtype: str
    weight_sqnr_nearest_db: float | None = None
    weight_sqnr_db: float | None = None
    weight_sqnr_corrected_db: float | None = None
    rounding: str | None = None


@dataclass
class QuantReport:
    tensors: list[TensorError]
    outputs: list[TensorError]
    top1: dict[str, float]
    samples: int
    kept_float: list[str] = field(default_factory=list)
    settings: dict[str, object] = field(default_factory=dict)
    layers: list[LayerDetail] = field(default_factory=list)
    mixed: dict[str, object] = field(default_factory=dict)

    def worst(self, n: int = 5) -> list[TensorError]:
        """The ``n`` operator outputs with the lowest SQNR."""
        layers = [t for t in self.tensors if t.op != "input"]
        return sorted(layers, key=lambda t: t.sqnr_db)[:n]

    def to_dict(self) -> dict[str, object]:
        return {
            "samples": self.samples, "settings": self.settings, "kept_float": self.kept_float,
            "outputs": [asdict(t) for t in self.outputs], "top1_agreement": self.top1,
            "worst_layers": [asdict(t) for t in self.worst()],
            "tensors": [asdict(t) for t in self.tensors],
            "layers": [asdict(t) for t in self.layers], "mixed": self.mixed,
        }

    def __str__(self) -> str:
        lines = [f"quantization report ({self.samples} samples; "
                 + ", ".join(f"{k}={v}" for k, v in self.settings.items()) + ")"]
        lines.append("outputs:")
        for t in self.outputs:
            top1 = f"  top-1 agreement {self.top1[t.name]:.1%}" if t.name in self.top1 else ""
            lines.append(f"  {t.name}: SQNR {t.sqnr_db:.2f} dB, cosine {t.cosine:.5f}{top1}")
        lines.append("worst layers:")
        lines += [f"  {t.sqnr_db:8.2f} dB  {t.cosine:.5f}  {t.op:<18} {_short(t.name)}"
                  for t in self.worst()]
        if self.kept_float:
            lines.append("kept in float (QUANTIZE/DEQUANTIZE around them): "
                         + ", ".join(self.kept_float))
        if self.mixed:
            lines.append("int16 activations (--mixed): " + ", ".join(
                f"{k} {v}" for k, v in self.mixed.items() if k != "layers"))
        lines.append("per tensor (SQNR dB, cosine):")
        lines += [f"  {t.sqnr_db:8.2f}  {t.cosine:.5f}  {t.op:<18} {_short(t.name)}"
                  for t in self.tensors]
        if self.layers:
            lines += _layer_lines(self.layers, {t.name: t.sqnr_db for t in self.tensors})
        return "\n".join(lines)


def _layer_lines(layers: list[LayerDetail], sqnr: dict[str, float]) -> list[str]:
    def db(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    lines = ["per layer (range method and range; SQNR dB of the tensor; weighted layers: output "
             "SQNR from weight rounding on the calibration patches, round-to-nearest / used / "
             "after bias correction):",
             f"  {'type':<5} {'method':<15} {'range':<20} {'SQNR':>7} {'nearest':>8} {'used':>7} "
             f"{'b.corr':>7}  {'op':<18} tensor"]
    for d in layers:
        lo, hi = d.range
        lines.append(f"  {d.dtype:<5} {d.method:<15} {f'[{lo:.4g}, {hi:.4g}]':<20} "
                     f"{db(sqnr.get(d.name)):>7} {db(d.weight_sqnr_nearest_db):>8} "
                     f"{db(d.weight_sqnr_db):>7} {db(d.weight_sqnr_corrected_db):>7}  "
                     f"{d.op:<18} {_short(d.name, 48)}")
    return lines


def _short(name: str, width: int = 64) -> str:
    """A TFLite tensor name for display: its first ';'-separated part, at most ``width`` chars."""
    first = name.split(";")[0]
    return first if len(first) <= width else "..." + first[-(width - 3):]


def sqnr_db(reference: np.ndarray, approx: np.ndarray) -> float:
    """10·log10(Σ ref² / Σ (ref − approx)²); +inf when they are equal."""
    ref = np.asarray(reference, np.float64)
    noise = float(((ref - np.asarray(approx, np.float64)) ** 2).sum())
    signal = float((ref**2).sum())
    return _db(signal, noise)


def _db(signal: float, noise: float) -> float:
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def quantize_input(x: np.ndarray, tensor) -> np.ndarray:
    """A float input quantized to an integer input tensor's parameters."""
    if tensor.dtype == np.float32:
        return x.astype(np.float32)
    info = np.iinfo(tensor.dtype)
    q = np.round(x.astype(np.float32) / np.float32(tensor.scale)) + tensor.zero_point
    return np.clip(q, info.min, info.max).astype(tensor.dtype)


def _real(value: np.ndarray, tensor) -> np.ndarray:
    if tensor.dtype == np.float32:
        return value.astype(np.float64)
    return (value.astype(np.float64) - tensor.zero_point) * float(tensor.scale)


def compare(float_graph: Graph, quant_graph: Graph, origin: dict[int, int],
            data: list[np.ndarray], kept_float: list[str] | None = None,
            settings: dict[str, object] | None = None,
            layers: list[LayerDetail] | None = None,
            mixed: dict[str, object] | None = None) -> QuantReport:
    """Run both graphs on ``data`` (float arrays, one per input) and measure the quantized one."""
    fsg, qsg = float_graph.main, quant_graph.main
    fexec, qexec = Executor(float_graph), Executor(quant_graph)
    pairs = sorted((q, f) for q, f in origin.items() if not fsg.tensors[f].is_variable)
    sums = {q: np.zeros(4) for q, _ in pairs}  # Σf², Σ(f-q)², Σfq, Σq²
    classes = [k for k, t in enumerate(fsg.outputs) if _is_classifier(fsg.tensors[t].shape)]
    agree = {k: 0 for k in classes}
    n = data[0].shape[0]
    for start in range(0, n, BATCH):
        chunk = [a[start:start + BATCH] for a in data]
        fexec.reset()
        qexec.reset()
        fouts, fvals = fexec.run(chunk, keep_intermediates=True)
        qins = [quantize_input(x, qsg.tensors[t]) for x, t in zip(chunk, qsg.inputs)]
        qouts, qvals = qexec.run(qins, keep_intermediates=True)
        for q, f in pairs:
            if q not in qvals or f not in fvals:
                continue
            ref = np.asarray(fvals[f], np.float64)
            got = _real(np.asarray(qvals[q]), qsg.tensors[q])
            sums[q] += [(ref**2).sum(), ((ref - got) ** 2).sum(), (ref * got).sum(),
                        (got**2).sum()]
        for k in classes:
            ref = np.asarray(fouts[k]).reshape(len(chunk[0]), -1)
            got = np.asarray(qouts[k]).reshape(len(chunk[0]), -1)
            agree[k] += int((ref.argmax(axis=1) == got.argmax(axis=1)).sum())
    kinds = _producer_names(float_graph)
    by_q: dict[int, TensorError] = {}
    for q, f in pairs:
        ff, ee, fq, qq = sums[q]
        cosine = fq / math.sqrt(ff * qq) if ff > 0 and qq > 0 else float(ff == qq)
        by_q[q] = TensorError(fsg.tensors[f].name, kinds.get(f, "input"), _db(ff, ee), cosine)
    chosen: dict[int, int] = {}
    for q, f in pairs:  # the integer version of a tensor when it has one
        if f not in chosen or qsg.tensors[q].dtype != np.float32:
            chosen[f] = q
    tensors = [by_q[chosen[f]] for f in sorted(chosen)]
    outputs = [by_q[q] for q in qsg.outputs if q in by_q]
    top1 = {fsg.tensors[fsg.outputs[k]].name: agree[k] / n for k in classes}
    return QuantReport(tensors, outputs, top1, n, list(kept_float or []), dict(settings or {}),
                       list(layers or []), dict(mixed or {}))


def _is_classifier(shape: tuple[int, ...]) -> bool:
    return len(shape) >= 1 and shape[-1] >= 2 and int(np.prod(shape)) == shape[-1]


def _producer_names(graph: Graph) -> dict[int, str]:
    sg = graph.main
    return {t: sg.operators[i].opcode for t, i in producers(sg).items()}
