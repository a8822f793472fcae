"""C kernel of FULLY_CONNECTED (``mf_fully_connected.c``) against the Python runtime.

int8: one or per-channel multipliers, every fused activation, no bias, several rows, row lengths
below, at and past the int16 widening chunk (64 elements) and around the SSE2 path's eight-element
PMADDWD steps, depths around the four-row blocks, the SSE2 and the portable builds.
float32: depths around the 32 / 16 / 8 / 4-wide blocks of the portable C and the passes of up to
12 four-wide vectors of the SSE2 path (split evenly), the one to three outputs left over, short and
long rows (every length mod 4: the SSE2 path takes four inputs per iteration), every fused
activation, no bias, float specials (NaN, +-inf, -0.0, extremes, denormals), the SSE2 (also at
-Os, with shorter passes) and the portable (``-DMF_NO_SIMD``) builds. Many cases share one build;
sanitizer builds too."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.ir import Graph
from tests.builders.c import BOTH_BUILDS, NO_SIMD, as_builder, check, check_inputs, merge
from tests.builders.ops import fc_model

INT8_CASES = [
    (1, 1, 16, False, 0, "int32"), (1, 5, 3, True, 1, "int32"), (1, 16, 16, False, 3, "int32"),
    (2, 33, 10, True, 2, "int32"), (1, 64, 5, False, 0, None), (1, 65, 7, True, 0, "int32"),
    (3, 200, 9, False, 1, "int32"), (1, 130, 4, True, 3, None), (2, 560, 13, False, 0, "int32"),
]
# (rows, accum, depth, activation, bias)
FLOAT_CASES = [
    (1, 1, 16, 0, True), (1, 16, 1, 0, True), (1, 7, 2, 1, True), (1, 28, 3, 3, False),
    (2, 9, 5, 2, True), (1, 560, 10, 0, True), (1, 20, 12, 1, True), (3, 5, 17, 0, True),
    (1, 33, 33, 3, True), (1, 28, 80, 0, False), (1, 4, 71, 1, True), (1, 3, 48, 0, True),
    (2, 6, 51, 0, True), (1, 11, 100, 1, False), (1, 2, 196, 0, True), (1, 1, 44, 0, True),
]
# -Os builds take SSE2 passes of 4 vectors instead of 12
SIMD_OS = pytest.mark.parametrize("flags", [None, NO_SIMD, ["-Os"]],
                                  ids=["simd", "portable", "simd-Os"])


def _int8_graph() -> Graph:
    cases = [fc_model((rows, accum), (rows, depth), accum, depth, np.int8,
                      per_channel=per_channel, act=act, bias=bias, seed=i)
             for i, (rows, accum, depth, per_channel, act, bias) in enumerate(INT8_CASES)]
    return merge([as_builder(read_tflite(data)) for data in cases]).build()


def _float_graph() -> Graph:
    cases = [fc_model((rows, accum), (rows, depth), accum, depth, np.float32, act=act,
                      bias=bias, seed=i)
             for i, (rows, accum, depth, act, bias) in enumerate(FLOAT_CASES)]
    return merge([as_builder(read_tflite(data)) for data in cases]).build()


@BOTH_BUILDS
@pytest.mark.parametrize("sanitize", [False, True])
def test_int8(sanitize, flags, tmp_path):
    check(_int8_graph(), tmp_path / "lib", n=20 if sanitize else 200, sanitize=sanitize, flags=flags)


@SIMD_OS
@pytest.mark.parametrize("sanitize", [False, True])
def test_float(sanitize, flags, tmp_path):
    check(_float_graph(), tmp_path / "lib", n=20 if sanitize else 200, sanitize=sanitize,
          flags=flags)


@BOTH_BUILDS
def test_float_specials(flags, tmp_path):
    graph = _float_graph()
    sg = graph.main
    rng = np.random.default_rng(7)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 3.4028235e38, -3.4028235e38, 1e-45],
                       np.float32)
    inputs = []
    for t in sg.inputs:
        shape = (40,) + sg.tensors[t].shape
        x = rng.uniform(-4, 4, shape).astype(np.float32)
        flat = x.reshape(40, -1)
        for s in range(1, 40):
            flat[s, rng.integers(0, flat.shape[1], 2)] = special[s % special.size]
        flat[0] = -0.0
        inputs.append(x)
    with np.errstate(all="ignore"):
        check_inputs(graph, tmp_path / "lib", inputs, flags=flags)
