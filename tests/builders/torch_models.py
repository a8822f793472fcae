"""Small real PyTorch models for the ONNX frontend tests: a DS-CNN keyword spotter, a
MobileNetV2-style net, a 1-D conv audio net, a ResNet-8, a dense autoencoder and an LSTM
classifier. Random weights (seeded) with non-trivial batch-norm statistics; ``eval()`` mode.

torch is imported lazily (a test extra); ``export`` writes ONNX bytes with torch.onnx.
"""

from __future__ import annotations

import io

import numpy as np


def _torch():
    import torch

    return torch


def _bn(channels: int, dims: int = 2):
    nn = _torch().nn
    return nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm1d(channels)


def ds_cnn():
    """Keyword spotting DS-CNN (Hello Edge): conv, four depthwise-separable blocks, avg pool,
    linear. Input (1, 1, 49, 10) MFCCs."""
    nn = _torch().nn

    def block(c):
        return [nn.Conv2d(c, c, 3, padding=1, groups=c), _bn(c), nn.ReLU(),
                nn.Conv2d(c, c, 1), _bn(c), nn.ReLU()]

    layers = [nn.Conv2d(1, 32, (10, 4), stride=(2, 2), padding=(5, 1)), _bn(32), nn.ReLU()]
    for _ in range(4):
        layers += block(32)
    layers += [nn.AvgPool2d((25, 5)), nn.Flatten(), nn.Linear(32, 12)]
    return nn.Sequential(*layers), (1, 1, 49, 10)


def mobilenet_v2():
    """MobileNetV2-style: inverted residual blocks (expand 1x1, depthwise 3x3, project 1x1),
    ReLU6, residual adds, global average pool, linear. Input (1, 3, 32, 32)."""
    torch = _torch()
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, c_in, c_out, stride, expand):
            super().__init__()
            hidden = c_in * expand
            self.residual = stride == 1 and c_in == c_out
            self.body = nn.Sequential(
                nn.Conv2d(c_in, hidden, 1, bias=False), _bn(hidden), nn.ReLU6(),
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), _bn(hidden),
                nn.ReLU6(), nn.Conv2d(hidden, c_out, 1, bias=False), _bn(c_out))

        def forward(self, x):
            y = self.body(x)
            return x + y if self.residual else y

    model = nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1, bias=False), _bn(16), nn.ReLU6(),
        Block(16, 16, 1, 1), Block(16, 24, 2, 6), Block(24, 24, 1, 6), Block(24, 32, 2, 6),
        Block(32, 32, 1, 6), nn.Conv2d(32, 64, 1, bias=False), _bn(64), nn.ReLU6(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    return model, (1, 3, 32, 32)


def conv1d_audio():
    """1-D conv audio net over (1, 40, 64) features: Conv1d + BN + ReLU blocks, max pooling,
    a grouped and a dilated conv, global average pooling, linear."""
    nn = _torch().nn
    model = nn.Sequential(
        nn.Conv1d(40, 32, 5, padding=2), _bn(32, 1), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(32, 32, 3, padding=2, dilation=2, groups=4), _bn(32, 1), nn.ReLU(),
        nn.Conv1d(32, 48, 3, stride=2, padding=1), _bn(48, 1), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(48, 8))
    return model, (1, 40, 64)


def resnet8():
    """ResNet-8 as in MLPerf Tiny image classification: three residual stages (16, 32, 64),
    1x1 projection shortcuts, global average pool, linear. Input (1, 3, 32, 32)."""
    torch = _torch()
    nn = torch.nn

    class Stage(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), _bn(c_out), nn.ReLU(),
                                   nn.Conv2d(c_out, c_out, 3, 1, 1), _bn(c_out))
            self.skip = (nn.Identity() if stride == 1 and c_in == c_out
                         else nn.Conv2d(c_in, c_out, 1, stride))

        def forward(self, x):
            return torch.relu(self.a(x) + self.skip(x))

    model = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1), _bn(16), nn.ReLU(), Stage(16, 16, 1),
                          Stage(16, 32, 2), Stage(32, 64, 2), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(64, 10))
    return model, (1, 3, 32, 32)


def autoencoder():
    """Dense autoencoder (MLPerf Tiny anomaly detection shape, smaller): 640 -> 128 x 3 -> 8 ->
    128 x 3 -> 640 with BatchNorm1d and ReLU."""
    nn = _torch().nn

    def dense(i, o):
        return [nn.Linear(i, o), _bn(o, 1), nn.ReLU()]

    layers = dense(640, 128) + dense(128, 128) + dense(128, 8) + dense(8, 128) + dense(128, 128)
    return nn.Sequential(*layers, nn.Linear(128, 640)), (1, 640)


def lstm_classifier():
    """torch.nn.LSTM (batch_first) over (1, 20, 12) features, the last step's hidden output
    into a linear layer."""
    torch = _torch()
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(12, 16, batch_first=True)
            self.fc = nn.Linear(16, 4)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.fc(y[:, -1, :])

    return Net(), (1, 20, 12)


MODELS = {"ds_cnn": ds_cnn, "mobilenet_v2": mobilenet_v2, "conv1d_audio": conv1d_audio,
          "resnet8": resnet8, "autoencoder": autoencoder, "lstm": lstm_classifier}


def build(name: str, seed: int = 0):
    """The model (eval mode, seeded weights, batch-norm statistics set away from 0 / 1) and its
    input shape."""
    torch = _torch()
    torch.manual_seed(seed)
    model, shape = MODELS[name]()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval(), shape


def export(model, shape: tuple[int, ...], opset: int | None = 13, dynamo: bool = False,
           dynamic_batch: bool = False) -> bytes:
    """ONNX bytes from torch.onnx.export (``opset`` None: the exporter's default)."""
    torch = _torch()
    x = torch.zeros(shape)
    f = io.BytesIO()
    kwargs = {"dynamo": dynamo}
    if opset is not None:
        kwargs["opset_version"] = opset
    if dynamic_batch and not dynamo:
        kwargs["dynamic_axes"] = {"x": {0: "batch"}}
    with torch.no_grad():
        if dynamo:
            program = torch.onnx.export(model, (x,), input_names=["x"], **kwargs)
            return program.model_proto.SerializeToString()
        torch.onnx.export(model, (x,), f, input_names=["x"], **kwargs)
    return f.getvalue()


def sample(shape: tuple[int, ...], n: int, seed: int = 1) -> np.ndarray:
    """``n`` seeded normal inputs of ``shape`` stacked (float32)."""
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype(np.float32)
