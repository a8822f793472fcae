"""ONNX helpers for the frontend tests: the backend node test cases that ship inside the onnx
package (with their parameter inputs frozen into initializers), onnxruntime as the oracle, and
running a lowered model in the ONNX layout."""

from __future__ import annotations

import numpy as np
import pytest

# Input positions that carry run-time data; every other input of these node types is a weight or
# a parameter, which a static-weight compiler takes as a constant.
DATA_INPUTS = {"Add": {0, 1}, "Sub": {0, 1}, "Mul": {0, 1}, "Div": {0, 1}, "Concat": None}


def onnx_module():
    return pytest.importorskip("onnx", reason="onnx not installed (optional extra [onnx])")


def ort_session(data: bytes):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed (extra [test])")
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def ort_run(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    sess = ort_session(data)
    feeds = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
    return [np.asarray(y) for y in sess.run(None, feeds)]


def freeze(model, inputs: list[np.ndarray]):
    """A copy of a node test model whose weight / parameter inputs are initializers holding the
    test data, and the data inputs left to feed."""
    onnx = onnx_module()
    from onnx import numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    data_names = set()
    for node in g.node:
        positions = DATA_INPUTS.get(node.op_type, {0})
        for k, name in enumerate(node.input):
            if positions is None or k in positions:
                data_names.add(name)
    keep, feeds = [], []
    for info, x in zip(list(g.input), inputs):
        if info.name in data_names and np.asarray(x).dtype == np.float32:
            keep.append(info)
            feeds.append(x)
        else:
            g.initializer.append(numpy_helper.from_array(np.asarray(x), info.name))
    del g.input[:]
    g.input.extend(keep)
    return model, feeds


def run_in_onnx_layout(graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run a lowered graph on one sample per input in the ONNX model's own layout, transposing
    by ``graph.source`` here (the runtime's executor sees the IR layout only), from fresh state."""
    from microforge.runtime.interpreter import Executor

    source = graph.source
    feeds = [(x if p is None else np.transpose(x, p))[None]
             for x, p in zip(inputs, source.input_perms)]
    outs, _ = Executor(graph).run(feeds)
    return [y[0] if p is None else np.transpose(y[0], np.argsort(p))
            for y, p in zip(outs, source.output_perms)]
