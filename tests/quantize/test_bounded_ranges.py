"""With minmax calibration, an output clamped by a fused RELU6 / RELU_N1_TO_1 takes its whole
possible range, not the (smaller) observed one."""

import numpy as np
import pytest

import microforge
from microforge.ir.builder import GraphBuilder


def _float_fc(activation: int):
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 8), np.float32)
    w = b.const("w", rng.normal(0, 0.05, (4, 8)).astype(np.float32))
    bias = b.const("b", np.zeros(4, np.float32))
    y = b.tensor("y", (1, 4), np.float32)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=activation)
    b.output(y)
    return microforge.Model(b.build())


@pytest.mark.parametrize("activation, lo, hi", [(3, 0.0, 6.0), (2, -1.0, 1.0)])
def test_fused_bounded_activation_uses_its_whole_range(activation, lo, hi):
    data = np.random.default_rng(1).uniform(-1, 1, (64, 1, 8)).astype(np.float32)
    q = microforge.quantize(_float_fc(activation), data, method="minmax")
    out = q.graph.main.tensors[q.graph.main.outputs[0]]
    assert out.scale == pytest.approx((hi - lo) / 255, rel=1e-6)
    representable = (out.scale * (-128 - out.zero_point), out.scale * (127 - out.zero_point))
    assert representable == pytest.approx((lo, hi), abs=out.scale)


def test_other_methods_keep_the_observed_range():
    data = np.random.default_rng(1).uniform(-1, 1, (64, 1, 8)).astype(np.float32)
    q = microforge.quantize(_float_fc(3), data, method="mse")
    out = q.graph.main.tensors[q.graph.main.outputs[0]]
    assert out.scale < 6.0 / 255
