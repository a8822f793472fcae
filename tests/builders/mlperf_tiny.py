"""Benchmark networks with the published MLPerf Tiny / MobileNet layer shapes, built as float
graphs with random (He-scaled) weights and quantized to int8 by microforge: a DS-CNN (keyword
spotting, 49x10x1), a MobileNetV1-0.25 at 96x96x3 (visual wake words) and a ResNet-8 (image
classification, 32x32x3). Batch norm is folded into the convolution biases, as the TFLite
converter does; the classifiers end in FULLY_CONNECTED + SOFTMAX."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from microforge.api import quantize, save
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder

F32 = np.float32
SAME, VALID = 0, 1
RELU = 1


class _Net:
    """A float graph under construction: each layer takes and returns (tensor, shape)."""

    def __init__(self, shape: tuple[int, ...], seed: int) -> None:
        self.b = GraphBuilder()
        self.rng = np.random.default_rng(seed)
        self.n = 0
        self.x = (self.b.input("input", (1, *shape), F32), (1, *shape))

    def _name(self, kind: str) -> str:
        self.n += 1
        return f"{kind}{self.n}"

    def _out(self, name: str, shape: tuple[int, ...]) -> int:
        return self.b.tensor(name, shape, F32)

    def conv(self, x, c_out: int, k: tuple[int, int], stride: int = 1, act: int = RELU,
             depthwise: bool = False, padding: int = SAME, dilation: int = 1, multiplier: int = 1):
        t, (n, h, w, c_in) = x
        name = self._name("dw" if depthwise else "conv")
        fan_in = k[0] * k[1] * (1 if depthwise else c_in)
        wshape = (1, *k, c_in * multiplier) if depthwise else (c_out, *k, c_in)
        wt = self.b.const(f"{name}/w", (self.rng.normal(size=wshape) * np.sqrt(2 / fan_in)).astype(F32))
        bias = self.b.const(f"{name}/b", self.rng.normal(0, 0.1, size=wshape[3] if depthwise else c_out)
                            .astype(F32))
        if padding == SAME:
            oh, ow = -(-h // stride), -(-w // stride)
        else:
            oh = (h - (k[0] - 1) * dilation - 1) // stride + 1
            ow = (w - (k[1] - 1) * dilation - 1) // stride + 1
        shape = (n, oh, ow, c_in * multiplier if depthwise else c_out)
        y = self._out(name, shape)
        opts = {"padding": padding, "stride_h": stride, "stride_w": stride,
                "dilation_h_factor": dilation, "dilation_w_factor": dilation,
                "fused_activation_function": act}
        if depthwise:
            opts["depth_multiplier"] = multiplier
        self.b.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [t, wt, bias], [y], **opts)
        return y, shape

    def add(self, a, c, act: int = RELU):
        shape = a[1]
        y = self._out(self._name("add"), shape)
        self.b.op("ADD", [a[0], c[0]], [y], fused_activation_function=act)
        return y, shape

    def head(self, x, classes: int) -> Graph:
        t, (n, h, w, c) = x
        pooled = self._out("pool", (n, 1, 1, c))
        self.b.op("AVERAGE_POOL_2D", [t], [pooled], padding=VALID, stride_h=h, stride_w=w,
                  filter_height=h, filter_width=w, fused_activation_function=0)
        flat = self._out("flat", (n, c))
        self.b.op("RESHAPE", [pooled, self.b.const("shape", np.array([n, c], np.int32))], [flat])
        wt = self.b.const("fc/w", (self.rng.normal(size=(classes, c)) / np.sqrt(c)).astype(F32))
        bias = self.b.const("fc/b", np.zeros(classes, F32))
        logits = self._out("logits", (n, classes))
        self.b.op("FULLY_CONNECTED", [flat, wt, bias], [logits], fused_activation_function=0)
        probs = self._out("probs", (n, classes))
        self.b.op("SOFTMAX", [logits], [probs], beta=1.0)
        self.b.output(probs)
        return self.b.build()


def ds_cnn() -> Graph:
    """MLPerf Tiny KWS DS-CNN: CONV 10x4 stride 2 (64), four depthwise-separable blocks of 64,
    average pool, 12 classes."""
    net = _Net((49, 10, 1), seed=1)
    x = net.conv(net.x, 64, (10, 4), stride=2)
    for _ in range(4):
        x = net.conv(x, 64, (3, 3), depthwise=True)
        x = net.conv(x, 64, (1, 1))
    return net.head(x, 12)


def mobilenet_v1_025() -> Graph:
    """MobileNetV1 width 0.25 at 96x96x3 (MLPerf Tiny VWW): CONV 3x3 stride 2 (8), thirteen
    depthwise-separable blocks (16 ... 256 channels, strides 2 at blocks 2, 4, 6 and 12), 2 classes."""
    net = _Net((96, 96, 3), seed=2)
    x = net.conv(net.x, 8, (3, 3), stride=2)
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1), (128, 1),
              (128, 1), (128, 1), (256, 2), (256, 1)]
    for c_out, stride in blocks:
        x = net.conv(x, 0, (3, 3), stride=stride, depthwise=True)
        x = net.conv(x, c_out, (1, 1))
    return net.head(x, 2)


def resnet8() -> Graph:
    """MLPerf Tiny IC ResNet-8 at 32x32x3: CONV 3x3 (16), three residual stacks of two 3x3
    convolutions (16, 32 stride 2, 64 stride 2; the strided ones with a 1x1 stride-2 projection),
    average pool, 10 classes."""
    net = _Net((32, 32, 3), seed=3)
    x = net.conv(net.x, 16, (3, 3))
    for c_out, stride in ((16, 1), (32, 2), (64, 2)):
        y = net.conv(x, c_out, (3, 3), stride=stride)
        y = net.conv(y, c_out, (3, 3), act=0)
        shortcut = x if stride == 1 else net.conv(x, c_out, (1, 1), stride=stride, act=0)
        x = net.add(y, shortcut)
    return net.head(x, 10)


def conv_chain(shape: tuple[int, int, int], layers: list[dict], seed: int = 4) -> Graph:
    """An int8 chain of convolutions (each layer: ``_Net.conv``'s keywords, e.g. ``c_out``,
    ``k``, ``stride``, ``depthwise``, ``padding``, ``dilation``) ending in a global average pool,
    quantized by microforge on seeded normal inputs: the shapes patch-based execution is
    tested on."""
    net = _Net(shape, seed)
    x = net.x
    for layer in layers:
        x = net.conv(x, **layer)
    t, (n, h, w, c) = x
    pooled = net._out("pool", (n, 1, 1, c))
    net.b.op("AVERAGE_POOL_2D", [t], [pooled], padding=VALID, stride_h=h, stride_w=w,
             filter_height=h, filter_width=w, fused_activation_function=0)
    net.b.output(pooled)
    graph = net.b.build()
    data = np.random.default_rng(0).normal(size=(8, *shape)).astype(F32)
    return quantize(graph, data).graph


def conv_fc(shape: tuple[int, int, int], layers: list[dict], classes: int, reshape: bool = True,
            seed: int = 4) -> Graph:
    """An int8 chain of convolutions (as :func:`conv_chain`, ``multiplier`` for a depthwise
    layer's depth multiplier) whose last activation feeds a FULLY_CONNECTED of ``classes``
    outputs, through a RESHAPE to one row or directly (TFLM flattens it): micro_speech's shape,
    on which a stage fuses the convolutions with the classifier."""
    net = _Net(shape, seed)
    x = net.x
    for layer in layers:
        x = net.conv(x, **layer)
    t, (n, h, w, c) = x
    if reshape:
        flat = net._out("flat", (n, h * w * c))
        net.b.op("RESHAPE", [t, net.b.const("shape", np.array([n, h * w * c], np.int32))], [flat])
        t = flat
    wt = net.b.const("fc/w", (net.rng.normal(size=(classes, h * w * c)) / np.sqrt(h * w * c)).astype(F32))
    bias = net.b.const("fc/b", net.rng.normal(0, 0.1, size=classes).astype(F32))
    logits = net._out("logits", (n, classes))
    net.b.op("FULLY_CONNECTED", [t, wt, bias], [logits], fused_activation_function=0)
    net.b.output(logits)
    graph = net.b.build()
    data = np.random.default_rng(0).normal(size=(8, *shape)).astype(F32)
    return quantize(graph, data).graph


BUILDERS: dict[str, Callable[[], Graph]] = {
    "ds_cnn": ds_cnn, "mobilenet_v1_025": mobilenet_v1_025, "resnet8": resnet8,
}


def quantized(name: str, samples: int = 8) -> Graph:
    """The network quantized to int8 (int8 input and output, per-channel weights), calibrated on
    seeded normal inputs."""
    graph = BUILDERS[name]()
    shape = graph.main.tensors[graph.main.inputs[0]].shape
    data = np.random.default_rng(0).normal(size=(samples, *shape[1:])).astype(F32)
    return quantize(graph, data).graph


def write(name: str, directory: Path) -> Path:
    """``directory/NAME.tflite``: the quantized network as a model file."""
    path = Path(directory) / f"{name}.tflite"
    save(quantized(name), path)
    return path
