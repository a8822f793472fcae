"""The per-operator and per-tensor facts of the HTML report: options, quantization parameters,
weight statistics and MACs (``ir.ops.count_macs``, the MAC counts ``inspect`` prints)."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from microforge.ir import Graph, Subgraph, Tensor
from microforge.ir.ops import count_macs


def _value(v: Any) -> Any:
    if isinstance(v, enum.Enum):
        return v.name
    if isinstance(v, np.ndarray):
        return v.tolist() if v.size <= 16 else f"array{list(v.shape)}"
    if isinstance(v, bytes):
        return f"{len(v)} bytes"
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    return v if isinstance(v, (int, float, str, bool)) or v is None else str(v)


def _dtype(t: Tensor) -> str:
    return (t.type_name or t.dtype.name).lower()


def tensor_label(t: Tensor) -> str:
    """``int8[1,48,48,8]``: the edge label of the graph view."""
    return f"{_dtype(t)}[{','.join(map(str, t.shape))}]"


def _quant(t: Tensor) -> dict | None:
    q = t.quant
    if q is None or not q.is_quantized:
        return None
    scale = np.asarray(q.scale, np.float64)
    out: dict[str, Any] = {"zero_point": int(q.zero_point.reshape(-1)[0]) if q.zero_point.size else 0}
    if scale.size > 1:
        out.update(axis=int(q.axis), channels=int(scale.size), scale_min=float(scale.min()),
                   scale_max=float(scale.max()))
    else:
        out["scale"] = float(scale.reshape(-1)[0])
    return out


def weight_stats(t: Tensor) -> dict:
    """min / max / mean / std of a constant tensor's stored values and, quantized, of its real
    values (stored - zero_point) * scale, per channel when per-channel."""
    data = np.asarray(t.data)
    raw = data.astype(np.float64).reshape(-1)
    out: dict[str, Any] = {"count": int(raw.size)}
    if raw.size == 0 or data.dtype.kind not in "iufb":
        return out
    out["stored"] = {"min": float(raw.min()), "max": float(raw.max()), "mean": float(raw.mean()),
                     "std": float(raw.std())}
    q = t.quant
    if q is not None and q.is_quantized and data.ndim:
        scale = np.asarray(q.scale, np.float64)
        zp = np.asarray(q.zero_point, np.float64)
        if scale.size > 1:
            if q.axis >= data.ndim or scale.size != data.shape[q.axis]:
                return out
            shape = [1] * data.ndim
            shape[q.axis] = -1
            zp = zp.reshape(shape) if zp.size == scale.size else zp.reshape(-1)[:1]
            real = (data.astype(np.float64) - zp) * scale.reshape(shape)
        else:
            real = (data.astype(np.float64) - (zp.reshape(-1)[0] if zp.size else 0)) * scale.reshape(-1)[0]
        real = real.reshape(-1)
        out["real"] = {"min": float(real.min()), "max": float(real.max()),
                       "mean": float(real.mean()), "std": float(real.std())}
    return out


def tensors_of(sg: Subgraph) -> list[dict]:
    """Every tensor: name, shape, dtype, quantization, whether constant or state."""
    out = []
    for i, t in enumerate(sg.tensors):
        kind = "state" if t.is_variable else "const" if t.data is not None else "activation"
        out.append({"index": i, "name": t.name, "label": tensor_label(t), "kind": kind,
                    "bytes": int(t.nbytes), "quant": _quant(t)})
    return out


def operators_of(graph: Graph) -> list[dict]:
    """One entry per operator of the main subgraph (model order)."""
    sg = graph.main
    seen: set[int] = set()
    out = []
    for i, op in enumerate(sg.operators):
        weights, weight_bytes = [], 0
        for t_idx in op.inputs:
            if t_idx < 0:
                continue
            t = sg.tensors[t_idx]
            if t.data is None or t.is_variable:
                continue
            if t_idx not in seen:
                seen.add(t_idx)
                weight_bytes += int(t.data.nbytes)
            weights.append({"tensor": t_idx, **weight_stats(t)})
        out.append({
            "index": i, "op": op.opcode,
            "name": sg.tensors[op.outputs[0]].name if op.outputs else "",
            "inputs": [t for t in op.inputs if t >= 0], "outputs": list(op.outputs),
            "options": {k: _value(v) for k, v in op.options.items()},
            "macs": int(count_macs(op, sg)), "weight_bytes": weight_bytes, "weights": weights,
        })
    return out
