"""The compiled int8 DEPTHWISE_CONV_2D and CONV_2D kernels (runtime/native.c) equal the numpy
kernels on every geometry class, with the float output map and with TFLM's fixed-point stage, and
the runtime falls back to numpy without a compiler. (Their TFLM parity: test_conv.py, which runs
the compiled kernels whenever a compiler is present.)"""

from __future__ import annotations

import shutil
import zlib

import numpy as np
import pytest

import microforge
from microforge.frontends import read_model
from microforge.frontends.tflite.writer import write_tflite
from microforge.runtime import native
from microforge.runtime.interpreter import Executor
from tests.builders.arrays import random_inputs
from tests.builders.ops import SAME, VALID, conv_model, conv_weights

needs_cc = pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                              reason="needs a C compiler (gcc) for the compiled kernel")

GEOMETRIES = [
    # (padding, stride, dilation, kernel, input H x W, channels, multiplier)
    (SAME, 1, 1, (3, 3), (9, 8), 8, 1),
    (VALID, 1, 1, (3, 3), (7, 6), 16, 1),
    (SAME, 2, 1, (3, 3), (9, 10), 32, 1),
    (VALID, 2, 1, (3, 2), (8, 7), 5, 1),
    (SAME, 1, 2, (3, 3), (9, 7), 3, 2),
    (SAME, 2, 2, (3, 3), (10, 9), 4, 1),
    (SAME, 3, 1, (5, 5), (11, 12), 6, 1),
    (SAME, 1, 1, (5, 4), (4, 3), 7, 1),  # filter larger than the image
    (SAME, 1, 1, (1, 1), (5, 5), 64, 1),
    (VALID, 1, 1, (3, 3), (3, 3), 2, 8),
]


def _model(geometry, act: int, seed: int, x_zp=None, op="DEPTHWISE_CONV_2D"):
    padding, stride, dilation, k, hw, channels, multiplier = geometry
    c_out = channels * multiplier if op == "DEPTHWISE_CONV_2D" else 2 * channels + 1
    w = conv_weights(op, k, channels, c_out, seed, depth_multiplier=multiplier)
    w[0, 0, 0, 0] = -128  # the int16 product bound's extreme
    options = {"padding": padding, "stride_h": stride, "stride_w": stride,
               "dilation_h_factor": dilation, "dilation_w_factor": dilation,
               "fused_activation_function": act}
    return write_tflite(conv_model(op, np.int8, (1, *hw, channels), w, options, seed=seed,
                                   x_zp=x_zp).build())


def _both(data: bytes, x: np.ndarray, monkeypatch, fixed_point: bool = False):
    """(compiled, numpy) outputs; ``fixed_point``: both with TFLM's fixed-point output stage
    instead of the float map."""
    outputs = []
    for lib in (native.library(), None):
        with monkeypatch.context() as m:
            m.setattr(native, "_LIB", [lib])
            executor = Executor(read_model(data), threads=1)
            params = executor.steps[0].params
            if fixed_point:
                params.ints.requant.dtype = None
            outputs.append(executor.run([x])[0][0])
            blas = (params.geometry.pointwise and hasattr(params, "strips")
                    and params.ints.requant.dtype is not None)
            assert bool(params.native) == (lib is not None and not blas)
    return outputs


@needs_cc
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("act", [0, 1, 3])
@pytest.mark.parametrize("op", ["DEPTHWISE_CONV_2D", "CONV_2D"])
@pytest.mark.parametrize("fixed_point", [False, True], ids=["float-map", "fixed-point"])
def test_compiled_equals_numpy(geometry, act, op, fixed_point, monkeypatch):
    assert native.library() is not None
    if op == "CONV_2D" and geometry[6] > 1:
        geometry = geometry[:6] + (1,)
    seed = zlib.crc32(repr((geometry, act, op)).encode()) % 1000 + 1
    data = _model(geometry, act, seed, op=op)
    x = random_inputs((1, *geometry[4], geometry[5]), np.int8, 64, seed)
    compiled, reference = _both(data, x, monkeypatch, fixed_point)
    np.testing.assert_array_equal(compiled, reference)


@needs_cc
@pytest.mark.parametrize("x_zp", [-128, 127])
def test_compiled_depthwise_at_the_zero_point_extremes(x_zp, monkeypatch):
    geometry = GEOMETRIES[2]
    data = _model(geometry, 0, 7, x_zp=x_zp)
    x = random_inputs((1, *geometry[4], geometry[5]), np.int8, 32, 7)
    compiled, reference = _both(data, x, monkeypatch)
    np.testing.assert_array_equal(compiled, reference)


def test_disabled_by_the_environment(monkeypatch):
    monkeypatch.setattr(native, "_LIB", [])
    monkeypatch.setenv("MICROFORGE_NATIVE", "0")
    assert native.library() is None


def test_no_compiler_falls_back_to_numpy(monkeypatch, tmp_path):
    monkeypatch.setattr(native, "_LIB", [])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert native.library() is None
    geometry = GEOMETRIES[0]
    data = _model(geometry, 0, 3)
    x = random_inputs((1, *geometry[4], geometry[5]), np.int8, 4, 3)
    assert microforge.load(data).run(x)[0].shape == (4, 1, 9, 8, 8)


@needs_cc
def test_failed_build_falls_back_and_a_good_one_is_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    failing = tmp_path / "failing-cc"
    failing.write_text("#!/bin/sh\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setenv("CC", str(failing))
    monkeypatch.setattr(native, "_LIB", [])
    assert native.library() is None
    monkeypatch.delenv("CC")
    monkeypatch.setattr(native, "_LIB", [])
    assert native.library() is not None
    assert len(list((tmp_path / "microforge").glob("native-*.so"))) == 1


@needs_cc
def test_compiled_table_lookup_equals_numpy(monkeypatch):
    """A residual ADD of two int8 tensors (table lookup in C) against the numpy gather."""
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()
    shape = (1, 16, 16, 32)
    x = b.input("x", shape, np.int8, 0.05, 3)
    y = b.input("y", shape, np.int8, 0.08, -7)
    z = b.tensor("z", shape, np.int8, 0.1, -2)
    b.op("ADD", [x, y], [z], fused_activation_function=1)
    b.output(z)
    data = write_tflite(b.build())
    xs = [random_inputs(shape, np.int8, 8, seed) for seed in (1, 2)]
    outs = []
    for lib in (native.library(), None):
        with monkeypatch.context() as m:
            m.setattr(native, "_LIB", [lib])
            outs.append(microforge.load(data, threads=1).run(xs)[0])
    np.testing.assert_array_equal(outs[0], outs[1])
