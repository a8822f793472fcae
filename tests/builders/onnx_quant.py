"""Quantized ONNX test models: small PyTorch networks exported to float ONNX, then quantized by
``onnxruntime.quantization.quantize_static`` (QDQ or QOperator) with a seeded random calibration
set; helpers to run them in onnxruntime and to compare integer outputs in LSB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


@dataclass(frozen=True)
class QuantSetting:
    """One ``quantize_static`` configuration."""

    fmt: str = "QDQ"  # or "QOperator"
    activations: str = "QUInt8"  # or "QInt8"
    weights: str = "QInt8"  # or "QUInt8"
    per_channel: bool = True

    @property
    def label(self) -> str:
        pc = "pc" if self.per_channel else "pt"
        return f"{self.fmt}-a{self.activations[1:].lower()}-w{self.weights[1:].lower()}-{pc}"


def small_convnet():
    """Conv + BN + ReLU, a depthwise-separable block with a residual add, max pooling, a concat
    of a conv with its sigmoid, global average pooling, a linear layer and softmax."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (test extra)")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
            self.dw, self.pw = nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 8, 1)
            self.c3 = nn.Conv2d(8, 6, 3, stride=2, padding=1)
            self.fc = nn.Linear(12, 5)

        def forward(self, x):
            y = torch.relu(self.b1(self.c1(x)))
            y = y + torch.relu(self.pw(self.dw(y)))
            y = nn.functional.max_pool2d(y, 2)
            z = self.c3(y)
            z = torch.cat([z, torch.sigmoid(z)], 1).mean((2, 3))
            return torch.softmax(self.fc(z), -1)

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.b1.running_mean.uniform_(-0.5, 0.5)
        net.b1.running_var.uniform_(0.5, 2.0)
    return net.eval(), (1, 3, 16, 16)


def conv1d_net():
    """A 1-D conv audio net: Conv1d + ReLU, average pooling, Conv1d + ReLU, global average pooling,
    a linear layer; the output is the logits (no softmax), so LSB statistics see the whole net."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (test extra)")
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2 = nn.Conv1d(4, 8, 5, padding=2), nn.Conv1d(8, 12, 3, padding=1)
            self.fc = nn.Linear(12, 6)

        def forward(self, x):
            y = nn.functional.avg_pool1d(torch.relu(self.c1(x)), 2)
            y = nn.functional.adaptive_avg_pool1d(torch.relu(self.c2(y)), 1)
            return self.fc(y.flatten(1))

    torch.manual_seed(1)
    return Net().eval(), (1, 4, 32)


def dense_bn_net():
    """Linear -> BatchNorm1d -> ReLU twice, then Linear: onnxruntime quantizes the Gemm output and
    the BatchNormalization separately; microforge folds the batch norm into the weights."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (test extra)")
    nn = torch.nn
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(),
                        nn.Linear(32, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 16))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return net.eval(), (1, 64)


MODELS = {"convnet": small_convnet, "conv1d": conv1d_net}


def export(net, shape: tuple[int, ...], path: Path, opset: int = 13) -> Path:
    """torch.onnx.export (TorchScript exporter) of ``net`` with input 'input', output 'output'."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed (test extra)")
    torch.onnx.export(net, (torch.zeros(shape),), str(path), opset_version=opset, dynamo=False,
                      input_names=["input"], output_names=["output"])
    return path


def calibration(shape: tuple[int, ...], n: int = 16, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]


def quantize(float_path: Path, out: Path, setting: QuantSetting, shape: tuple[int, ...]) -> Path:
    """``quantize_static`` of a float ONNX model with 16 seeded random calibration samples."""
    q = pytest.importorskip("onnxruntime.quantization",
                            reason="onnxruntime not installed (test extra)")

    class Reader(q.CalibrationDataReader):
        def __init__(self) -> None:
            self.data = iter([{"input": x} for x in calibration(shape)])

        def get_next(self):
            return next(self.data, None)

    q.quantize_static(str(float_path), str(out), Reader(),
                      quant_format=getattr(q.QuantFormat, setting.fmt),
                      activation_type=getattr(q.QuantType, setting.activations),
                      weight_type=getattr(q.QuantType, setting.weights),
                      per_channel=setting.per_channel)
    return out


def ort_run(path: Path, x: np.ndarray, optimize: bool = True) -> np.ndarray:
    """onnxruntime (CPU) on a batch, one sample at a time (the models have batch 1). Without
    ``optimize`` a QDQ model runs as written (DequantizeLinear, float operator, QuantizeLinear:
    ONNX's QDQ semantics); optimized, onnxruntime fuses it into its integer kernels."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (test extra)")
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: s[None]})[0] for s in x])


def output_scale(path: Path) -> float:
    """The scale of the DequantizeLinear that writes the quantized model's (first) output."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    node = next(n for n in graph.node if graph.output[0].name in n.output)
    assert node.op_type == "DequantizeLinear"
    return float(consts[node.input[1]])


def onnx_quantize_input(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """ONNX QuantizeLinear: round half to even, saturate."""
    info = np.iinfo(dtype)
    return np.clip(np.rint(x / np.float32(scale)) + zero_point, info.min, info.max).astype(dtype)


def lsb_stats(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """(fraction of elements differing, max |difference|) of two integer arrays."""
    d = np.abs(a.astype(np.int64) - b.astype(np.int64))
    return float((d > 0).mean()), int(d.max(initial=0))
