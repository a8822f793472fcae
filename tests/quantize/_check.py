"""Shared checks for the quantizer tests: TFLM parity of a quantized model and the TFLM
quantization rules verified on its graph."""

from __future__ import annotations

import numpy as np

import microforge
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir import Graph
from tests.builders.arrays import random_inputs
from tests.oracle import tflm_run

AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
SAME = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "TRANSPOSE",
        "STRIDED_SLICE", "PAD", "PADV2", "RELU6", "REDUCE_MAX", "REDUCE_MIN", "CONCATENATION",
        "MAXIMUM", "MINIMUM", "RESIZE_NEAREST_NEIGHBOR"}
FIXED8 = {"SOFTMAX": (1 / 256, -128), "LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}


def assert_tflm_parity(model: microforge.Model, n: int = 200, seed: int = 0) -> int:
    """Run ``n`` seeded random inputs through microforge and tflite-micro; outputs must be equal
    bit for bit. Returns the number of samples compared."""
    data = write_tflite(model.graph)
    xs = [random_inputs(i.shape, i.dtype, n, seed=seed + k) for k, i in enumerate(model.inputs)]
    ours = microforge.load(data).run(xs if len(xs) > 1 else xs[0])
    ref = tflm_run(data, [[x[s] for x in xs] for s in range(n)])
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        np.testing.assert_array_equal(o.reshape(r.shape), r)
    return n


def _params(t):
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def assert_tflm_rules(graph: Graph, int16: bool = False) -> None:
    """The quantization rules TFLM needs, checked operator by operator."""
    sg = graph.main
    act = np.int16 if int16 else np.int8
    for op in sg.operators:
        ins = [sg.tensor(t) for t in op.inputs]
        out = sg.tensors[op.outputs[0]]
        if out.dtype == np.float32 or op.opcode in ("QUANTIZE", "DEQUANTIZE"):
            continue
        assert out.dtype == act, (op.opcode, out.dtype)
        if int16:
            assert out.zero_point == 0
        if op.opcode in AXIS:
            x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
            assert w.dtype == np.int8 and not w.quant.zero_point.any()
            assert np.abs(w.data.astype(int)).max() <= 127
            if w.quant.per_channel:
                assert w.quant.axis == AXIS[op.opcode]
                assert w.quant.scale.size == w.shape[AXIS[op.opcode]]
            if b is not None:
                assert b.dtype == (np.int64 if int16 else np.int32)
                assert not b.quant.zero_point.any()
                expected = np.float32(x.scale) * w.quant.scale
                np.testing.assert_allclose(b.quant.scale, expected, rtol=1e-6)
        elif op.opcode == "PRELU":  # alpha: int8, symmetric, one scale (as the TFLite converter)
            alpha = ins[1]
            assert alpha.dtype == np.int8 and alpha.quant.scale.size == 1
            assert not alpha.quant.zero_point.any()
        elif op.opcode in SAME:
            for t in ins:
                if t is not None and t.dtype == act:
                    assert _params(t) == _params(out), op.opcode
        elif op.opcode in FIXED8:
            expected = (1 / 32768, 0) if int16 else FIXED8[op.opcode]
            assert _params(out) == (np.float32(expected[0]), expected[1]), op.opcode
