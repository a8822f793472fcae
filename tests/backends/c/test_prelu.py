"""Generated C for PRELU (``mf_prelu.c``) against the Python runtime (checked against TFLM in
tests/runtime/test_prelu.py): every broadcast layout of the runtime tests, float32 (with specials),
int8 and int16 with random quantization; one C build per dtype; sanitizer build; in place."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.backends.c.compiler import compile_model
from microforge.ir.builder import GraphBuilder
from tests.builders.c import check, check_inputs, merge, sample_inputs
from tests.builders.prelu_resize import PRELU_CASES, prelu_model

DTYPES = [np.float32, np.int8, np.int16]


def _all_cases(dtype, seeds=range(2)):
    return merge([prelu_model(dtype, i, a, 10 * case + s)
                  for case, (i, a) in enumerate(PRELU_CASES) for s in seeds]).build()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_every_broadcast_layout(dtype, tmp_path):
    graph = _all_cases(dtype)
    check_inputs(graph, tmp_path, sample_inputs(graph))


@pytest.mark.parametrize("dtype", [np.float32, np.int8], ids=lambda d: np.dtype(d).name)
def test_sanitizer_build(dtype, tmp_path):
    graph = _all_cases(dtype, seeds=[0])
    check_inputs(graph, tmp_path, sample_inputs(graph, seed=3), sanitize=True)


def test_runs_in_place_between_operators(tmp_path):
    b = GraphBuilder()
    x = b.input("x", (1, 4, 5, 3), np.float32)
    h = b.tensor("h", (1, 4, 5, 3), np.float32)
    p = b.tensor("p", (1, 4, 5, 3), np.float32)
    y = b.tensor("y", (1, 4, 5, 3), np.float32)
    b.op("RELU6", [x], [h])
    b.op("PRELU", [h, b.const("alpha", np.array([0.5, -1.0, 2.0], np.float32))], [p])
    b.op("RELU", [p], [y])
    b.output(y)
    graph = b.build()
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert compiled.op_rows[1]["in_place"]
    check(graph, tmp_path / "verify")
