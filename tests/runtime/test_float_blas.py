"""``Executor(exact_float=False)``: float CONV_2D sums in BLAS order (what the quantizer's
calibration uses); equal to the TFLM-exact float kernel up to float rounding."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.runtime.interpreter import Executor
from tests.builders.quant_graphs import chain, single_layer


@pytest.mark.parametrize("graph", [single_layer("CONV_2D", stride=2),
                                   single_layer("CONV_2D", padding=1, dilation=2), chain()],
                         ids=["strided", "dilated-valid", "chain"])
def test_blas_order_matches_the_exact_kernel_to_rounding(graph):
    shape = tuple(graph.main.tensors[graph.main.inputs[0]].shape)
    x = np.random.default_rng(0).normal(size=(70,) + shape).astype(np.float32)
    exact, _ = Executor(graph).run([x])
    fast, _ = Executor(graph, exact_float=False).run([x])
    np.testing.assert_allclose(fast[0], exact[0], rtol=1e-5, atol=1e-5)
