"""The float IR of a stripped QDQ model + the file's quantization -> an int8 IR with TFLM semantics.

What the TFLite converter would make of the same quantization:

* activations are int8 with the file's (scale, zero point); uint8 ones are shifted (``q - 128``,
  zero point - 128, same scale: exact). Tensors the lowering added (layout transposes, reshapes)
  take the parameters of the value they copy (the operator table's ``same`` rule). The output of a
  ``fixed`` operator (LOGISTIC, SOFTMAX: 1/256 and -128; TANH: 1/128 and 0) takes TFLM's fixed
  parameters instead of the file's calibrated ones, as the TFLite converter gives it: no extra
  rounding (a requantize to the file's 1/255 would cost ~2 dB at a softmax output, measured).
* weights of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED keep the file's integers where they are
  int8 with zero point 0 (uint8 weights with zero point 128 are exactly that after the shift);
  a channel whose integers do not fit int8 symmetric (an asymmetric zero point) is requantized
  symmetric with scale ``max|w| / 127``, per channel (also when the file quantized per tensor).
  The per-channel axis is the IR operator's ``weight_axis`` (ONNX Conv OIHW axis 0 -> OHWI
  axis 0, depthwise -> axis 3, Gemm -> axis 0).
* biases are int32 with scale ``input_scale * weight_scale``: the file's integers when that is
  the file's bias scale, else rounded from the real bias.
* where TFLM needs an operator's input and output to share parameters (pools, reshapes, pads,
  CONCATENATION inputs) and the file's differ, a requantizing int8 -> int8 QUANTIZE is inserted
  before the operator, as the TFLite converter does.
"""

from __future__ import annotations

import copy

import numpy as np

from microforge.errors import ModelError, UnsupportedOpError
from microforge.frontends.onnx.qdq import FileQuant, Stripped, dequantize
from microforge.ir import Graph, Operator, Subgraph, Tensor
from microforge.ir.builder import new_operator
from microforge.ir.ops import op_def
from microforge.ir.quant import QuantParams

Params = tuple[float, int]
INT8 = np.dtype(np.int8)


def shifted(q: FileQuant) -> tuple[np.ndarray, np.ndarray]:
    """(scale, int8 zero point) of a file quantization; uint8 moves down by 128."""
    zp = q.zero_point - (128 if q.dtype == np.uint8 else 0)
    return q.scale.astype(np.float32), zp


def int8_values(q: FileQuant) -> np.ndarray:
    """The integers of a quantized constant as int8 (uint8 shifted by -128)."""
    values = q.values.astype(np.int64) - (128 if q.dtype == np.uint8 else 0)
    return values.astype(np.int8)


def _params_of(q: FileQuant, name: str, where: str) -> Params:
    if q.dtype not in (np.int8, np.uint8) or q.scale.size != 1:
        kind = q.dtype.name if q.scale.size == 1 else "per-axis"
        raise UnsupportedOpError(f"{where}: ONNX value {name!r} is a {kind} quantized activation; "
                                 "TFLM runs per-tensor int8 (or uint8) activations")
    scale, zp = shifted(q)
    return float(scale[0]), int(zp[0])


def _quant(scale, zero_point, axis: int = 0) -> QuantParams:
    return QuantParams(scale=np.atleast_1d(np.asarray(scale, np.float32)),
                       zero_point=np.atleast_1d(np.asarray(zero_point, np.int64)), axis=axis)


def symmetric_weights(data: np.ndarray, q: FileQuant | None, axis: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights with zero point 0 and their per-channel (or per-tensor) scales: the file's
    integers where they fit, else symmetric ``max|w| / 127`` (see the module docstring)."""
    w = np.moveaxis(data.astype(np.float64), axis, 0)
    channels = w.shape[0]
    flat = w.reshape(channels, -1)
    amax = np.abs(flat).max(axis=1) if flat.size else np.zeros(channels)
    per_tensor = q is not None and q.scale.size == 1
    if q is not None and q.scale.size in (1, channels):
        scale = np.broadcast_to(q.scale.astype(np.float64), (channels,)).copy()
        ratio = flat / scale[:, None]
        fits = (np.abs(ratio - np.round(ratio)) < 1e-3).all(axis=1)
        fits &= (np.round(ratio) >= -128).all(axis=1) & (np.round(ratio) <= 127).all(axis=1)
        if per_tensor and not fits.all():  # requantized per channel: less error than per tensor
            per_tensor = False
        scale = np.where(fits, scale, amax / 127.0)
    else:
        scale = amax / 127.0
    positive = scale[scale > 0]
    scale = np.where(scale > 0, scale, positive.min() if positive.size else 1.0).astype(np.float32)
    qw = np.clip(np.round(flat / scale.astype(np.float64)[:, None]), -128, 127).astype(np.int8)
    qw = np.moveaxis(qw.reshape(w.shape), 0, axis)
    return np.ascontiguousarray(qw), scale[:1] if per_tensor else scale


def integer_bias(data: np.ndarray, q: FileQuant | None, bias_scale: np.ndarray) -> np.ndarray:
    """int32 bias for scale ``bias_scale`` (per channel): the file's integers when the file used
    that scale and lowering kept the bias, else the real bias rounded (half away from zero, as the
    TFLite converter)."""
    scale = np.broadcast_to(bias_scale, data.shape).astype(np.float64)
    real = data.astype(np.float64)
    if q is not None and q.values is not None and q.values.shape == data.shape:
        file_scale = np.broadcast_to(q.scale, data.shape).astype(np.float64)
        file_real = dequantize(q.values, q).astype(np.float64)
        # The file's integers describe this bias only if lowering did not change it (a folded
        # BatchNormalization does): then they are the bias, else the lowered float bias is.
        if (np.abs(file_real - real) <= 0.5 * file_scale + 1e-6 * np.abs(real)).all():
            if (q.zero_point == 0).all() and np.allclose(file_scale, scale, rtol=1e-6, atol=0):
                return q.values.astype(np.int32)
            real = file_real
    x = real / scale
    rounded = np.sign(x) * np.floor(np.abs(x) + 0.5)
    info = np.iinfo(np.int32)
    return np.clip(rounded, info.min, info.max).astype(np.int32)


class _Int8:
    def __init__(self, graph: Graph, stripped: Stripped, where: str) -> None:
        self.graph, self.sg, self.where = graph, graph.main, where
        self.quant, self.layers = stripped.quant, stripped.layers
        self.tensors = [copy.copy(t) for t in self.sg.tensors]
        self.acts = {i for i, t in enumerate(self.sg.tensors)
                     if t.dtype == np.float32 and not t.is_constant}
        self.params: dict[int, Params] = {}
        self.replaced: set[int] = set()
        self.requant: dict[tuple[int, Params], int] = {}
        self.ops: list[Operator] = []

    def name(self, t: int) -> str:
        return self.sg.tensors[t].name

    # -- activation parameters --------------------------------------------------------------
    def assign(self) -> None:
        for t in self.acts:
            q = self.quant.get(self.name(t))
            if q is not None:
                self.params[t] = _params_of(q, self.name(t), self.where)
        changed = True
        while changed:
            changed = False
            for op in self.sg.operators:
                changed |= self._propagate(op)
        missing = [self.name(t) for t in sorted(self.acts) if t not in self.params]
        if missing:
            raise ModelError(f"{self.where}: value {missing[0]!r} has no quantization parameters "
                             "(no QuantizeLinear/DequantizeLinear around it); quantize every "
                             "operator of the model, or give the float model to microforge quantize")

    def _propagate(self, op: Operator) -> bool:
        row = op_def(op.opcode)
        rule = None if row is None or op.custom else row.quant
        if rule is None or not op.outputs or op.outputs[0] not in self.acts:
            return False
        out, p = op.outputs[0], self.params
        data = [t for t in op.inputs if t in self.acts]
        if rule.kind == "fixed" and p.get(out) != rule.fixed8:
            p[out] = rule.fixed8  # TFLM's, whatever the file calibrated
            return True
        if rule.kind != "same" or not data:
            return False
        known = {p[t] for t in data if t in p}
        complete = len(known) == 1 and (not rule.multi or all(t in p for t in data))
        if out not in p and (p.get(data[0]) is not None if not rule.multi else complete):
            p[out] = p[data[0]]
            return True
        if out in p and any(t not in p for t in data):
            for t in data:
                p.setdefault(t, p[out])
            return True
        return False

    # -- tensors ----------------------------------------------------------------------------
    def _put(self, t: int, tensor: Tensor) -> int:
        """Store the integer version of constant ``t``: in its place the first time, else new."""
        if tensor.data is not None:
            tensor.data.flags.writeable = False
        if t not in self.replaced:
            self.replaced.add(t)
            self.tensors[t] = tensor
            return t
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def _const(self, t: int, params: Params | None) -> int:
        """A float constant operand of a non-weighted operator, as int8: the file's integers and
        parameters when it has them, else ``params`` (or its own min/max range)."""
        c = self.sg.tensors[t]
        q = self.quant.get(c.name)
        if q is not None and q.values is not None and q.values.shape == c.shape and q.scale.size == 1:
            scale, zp = shifted(q)
            return self._put(t, Tensor(c.name, c.shape, INT8, _quant(scale, zp), int8_values(q)))
        if params is None:
            lo, hi = min(float(c.data.min(initial=0.0)), 0.0), max(float(c.data.max(initial=0.0)), 0.0)
            scale = (hi - lo) / 255.0 if hi > lo else 1.0
            params = (scale, int(np.clip(np.round(-128 - lo / scale), -128, 127)))
        values = np.clip(np.round(c.data.astype(np.float64) / np.float32(params[0])) + params[1],
                         -128, 127).astype(np.int8)
        return self._put(t, Tensor(c.name, c.shape, INT8, _quant(*params), values))

    def _layer_quant(self, t: int, position: int) -> FileQuant | None:
        """The file's quantization of a weight (position 1) or bias (2) tensor: by its name, or
        through the ONNX layer its name starts with (``<layer output>/filter``)."""
        name = self.name(t)
        if name in self.quant:
            return self.quant[name]
        layer = self.layers.get(name.rsplit("/", 1)[0])
        return None if layer is None else self.quant.get(layer[position - 1])

    def _weighted(self, op: Operator, new: Operator, axis: int) -> None:
        w = self.sg.tensors[op.inputs[1]]
        qw, w_scale = symmetric_weights(w.data, self._layer_quant(op.inputs[1], 1), axis)
        n = w_scale.size
        new.inputs[1] = self._put(op.inputs[1], Tensor(
            w.name, w.shape, INT8, _quant(w_scale, np.zeros(n, np.int64), axis if n > 1 else 0), qw))
        b = self.sg.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
        if b is not None and b.dtype == np.float32:
            bias_scale = (np.float32(self.params[op.inputs[0]][0]) * w_scale).astype(np.float32)
            values = integer_bias(b.data, self._layer_quant(op.inputs[2], 2), bias_scale)
            new.inputs[2] = self._put(op.inputs[2], Tensor(
                b.name, b.shape, np.dtype(np.int32), _quant(bias_scale, np.zeros(n, np.int64)), values))

    def _requantized(self, t: int, params: Params) -> int:
        key = (t, params)
        if key not in self.requant:
            src = self.sg.tensors[t]
            self.tensors.append(Tensor(f"{src.name}_requantized", src.shape, INT8, _quant(*params),
                                       shape_signature=src.shape_signature))
            self.requant[key] = len(self.tensors) - 1
            self.ops.append(new_operator("QUANTIZE", [t], [self.requant[key]]))
        return self.requant[key]

    # -- operators --------------------------------------------------------------------------
    def operator(self, op: Operator) -> None:
        sg = self.sg
        if not any(t >= 0 and sg.tensors[t].dtype == np.float32 for t in op.inputs + op.outputs):
            self.ops.append(copy.deepcopy(op))
            return
        row = op_def(op.opcode)
        rule = None if row is None or op.custom else row.quant
        if rule is None:
            raise UnsupportedOpError(
                f"{self.where}: {op.opcode} (producing {self.name(op.outputs[0])!r}) has no int8 "
                "kernel in TFLM; a quantized ONNX model can use only operators TFLM runs in int8")
        new = copy.deepcopy(op)
        out = op.outputs[0]
        for pos, t in enumerate(op.inputs):
            if t in self.acts:
                if rule.kind == "same" and self.params[t] != self.params[out]:
                    new.inputs[pos] = self._requantized(t, self.params[out])
            elif t >= 0 and sg.tensors[t].dtype == np.float32 and not (
                    rule.kind == "weighted" and pos in (1, 2)):
                new.inputs[pos] = self._const(t, self.params[out] if rule.kind == "same" else None)
        if rule.kind == "weighted":
            self._weighted(op, new, row.weight_axis or 0)
        self.ops.append(new)

    def run(self) -> Graph:
        self.assign()
        for t in self.acts:
            src = self.tensors[t]
            self.tensors[t] = Tensor(src.name, src.shape, INT8, _quant(*self.params[t]),
                                     shape_signature=src.shape_signature, has_rank=src.has_rank)
        for op in self.sg.operators:
            self.operator(op)
        sg = Subgraph(self.tensors, self.ops, list(self.sg.inputs), list(self.sg.outputs),
                      name=self.sg.name)
        remap = _drop_unused(sg)
        out = copy.copy(self.graph)
        out.subgraphs = [sg] + list(self.graph.subgraphs[1:])
        out.signatures = copy.deepcopy(self.graph.signatures)
        for sig in out.signatures:
            if sig.subgraph_index == 0:
                sig.inputs = {k: remap[v] for k, v in sig.inputs.items()}
                sig.outputs = {k: remap[v] for k, v in sig.outputs.items()}
        return out


def _drop_unused(sg: Subgraph) -> dict[int, int]:
    """Drop the tensors nothing refers to (the float constants replaced by integer copies);
    return old index -> new index."""
    used = set(sg.inputs) | set(sg.outputs)
    for op in sg.operators:
        used |= {t for t in op.inputs + op.outputs + op.intermediates if t >= 0}
    remap = {old: new for new, old in enumerate(sorted(used))}
    sg.tensors = [sg.tensors[old] for old in sorted(used)]
    for op in sg.operators:
        op.inputs = [remap[t] if t >= 0 else t for t in op.inputs]
        op.outputs = [remap[t] for t in op.outputs]
        op.intermediates = [remap[t] for t in op.intermediates]
    sg.inputs = [remap[t] for t in sg.inputs]
    sg.outputs = [remap[t] for t in sg.outputs]
    return remap


def to_int8(graph: Graph, stripped: Stripped, where: str) -> Graph:
    """The int8 version of ``graph``, the lowered float model of ``stripped``."""
    return _Int8(graph, stripped, where).run()
