"""Generated C for CONCATENATION, STRIDED_SLICE, TRANSPOSE, PAD / PADV2, RESIZE_NEAREST_NEIGHBOR,
CAST (non-int8 inputs), MEAN / SUM / REDUCE_MAX / REDUCE_MIN against the Python runtime (checked
against TFLM in tests/runtime/). The runtime tests' single-operator builders are reused; many
cases share one graph (one C build). Inputs: 200 seeded samples (float specials in the first)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from microforge.backends.c.compiler import compile_model
from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.strided_slice import Masks, prepare_dim
from tests.builders.arrays import sample
from tests.builders.c import as_builder, check_inputs, merge, sample_inputs
from tests.builders.ops import (
    CAST_SHAPE,
    PAD_CASES,
    REDUCE_AXES,
    REDUCE_SHAPE,
    cast_inputs,
    cast_model,
    concat_model,
    pad_model,
    reduce_model,
    reduce_quant,
    slice_model,
    transpose_model,
)
from tests.builders.prelu_resize import RESIZE_CASES, RESIZE_OPTIONS, resize_model
from tests.oracle import MODELS

DTYPES = [np.int8, np.int16, np.int32, np.float32]


def _ids(v):
    return np.dtype(v).name if isinstance(v, type) else str(v)


def check_merged(builders, out, inputs=None, sanitize=False):
    graph = merge(builders).build()
    check_inputs(graph, out, inputs if inputs is not None else sample_inputs(graph), sanitize)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=_ids)
def test_transpose_every_permutation(dtype, tmp_path):
    """Every permutation of 2-D, 3-D and 4-D inputs, some 5-D ones, rank 1."""
    perms = [p for r in (2, 3, 4) for p in itertools.permutations(range(r))]
    perms += [(4, 3, 2, 1, 0), (0, 2, 4, 1, 3), (1, 0, 2, 3, 4), (3, 4, 0, 2, 1), (0,)]
    shapes = {1: (5,), 2: (3, 5), 3: (2, 3, 4), 4: (2, 3, 1, 4), 5: (2, 1, 3, 2, 2)}
    check_merged([transpose_model(shapes[len(p)], p, dtype) for p in perms], tmp_path)


def test_strided_slice_cases(tmp_path):
    """Each dtype, negative and out-of-range indices, every mask, masks together."""
    builders = [slice_model((4, 6, 5), [1, 0, 1], [3, 6, 4], [1, 2, 1], d) for d in DTYPES]
    for begin, end, strides in [([-1, -2], [-4, 0], [-1, -1]), ([5, 9], [-9, -9], [-2, -3]),
                                ([-9, 1], [9, 100], [3, 2]), ([3, 4], [0, 0], [-1, -2])]:
        builders.append(slice_model((4, 6), begin, end, strides, np.int32))
    for mask, bits, negative in itertools.product(
            ["begin_mask", "end_mask", "shrink_axis_mask"], [1, 2, 4, 5, 7], [False, True]):
        shape = (3, 4, 5)
        strides = [-1, -2, -1] if negative and mask != "shrink_axis_mask" else [1, 2, 1]
        begin, end = ([2, 3, 4], [0, 0, 1]) if strides[0] < 0 else ([1, 0, 1], [3, 4, 4])
        builders.append(slice_model(shape, begin, end, strides, np.float32, **{mask: bits}))
    builders.append(slice_model((3, 4, 5, 2), [1, -1, 2, 0], [2, 0, 3, 1], [1, -1, 2, 1], np.int16,
                           begin_mask=0b0110, end_mask=0b1011, shrink_axis_mask=0b1000))
    check_merged(builders, tmp_path)


def test_strided_slice_random(tmp_path):
    """150 random 1-4-D int8 slices with random masks and strides (TFLM-valid ones only)."""
    rng = np.random.default_rng(1234)
    builders = []
    while len(builders) < 150:
        rank = int(rng.integers(1, 5))
        shape = tuple(int(v) for v in rng.integers(1, 6, rank))
        begin = [int(v) for v in rng.integers(-7, 7, rank)]
        end = [int(v) for v in rng.integers(-7, 7, rank)]
        strides = [int(v) for v in rng.choice([-3, -2, -1, 1, 2, 3], rank)]
        masks = {k: int(rng.integers(0, 1 << rank)) for k in ("begin_mask", "end_mask")}
        masks["shrink_axis_mask"] = int(rng.integers(0, 1 << rank)) if rng.random() < 0.3 else 0
        m = Masks(masks["begin_mask"], masks["end_mask"], masks["shrink_axis_mask"])
        if any(m.shrink >> k & 1 and (strides[k] < 0 or not -shape[k] <= begin[k] < shape[k])
               for k in range(rank)):
            continue  # TFLM writes nothing there; microforge refuses the model
        dims = [prepare_dim(shape[k], begin[k], end[k], strides[k], m, k) for k in range(rank)]
        if 0 in dims:
            continue
        builders.append(slice_model(shape, begin, end, strides, np.int8, **masks))
    check_merged(builders, tmp_path)


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
def test_pad_and_padv2(dtype, tmp_path):
    """1-D to 5-D, asymmetric and zero paddings; PAD's default value (the int8 zero point) and
    PADV2 constant values."""
    builders = [pad_model("PAD", dtype, s, p) for s, p in PAD_CASES]
    builders += [pad_model("PADV2", dtype, s, p, value=-3 if dtype != np.float32 else -2.5)
                 for s, p in PAD_CASES]
    check_merged(builders, tmp_path)


@pytest.mark.parametrize("dtype", DTYPES, ids=_ids)
def test_concatenation(dtype, tmp_path):
    """Every axis (negative ones too), 3 inputs; constant inputs mixed with activations."""
    builders, feeds = [], []
    for axis in (0, 1, 2, 3, -1, -2, -4):
        shapes = []
        for k in (1, 2, 3):
            s = [2, 3, 4, 2]
            s[axis] = k
            shapes.append(tuple(s))
        b, f = concat_model(shapes, axis, dtype)
        builders.append(b)
        feeds += f
    b, f = concat_model([(5,), (7,), (3,), (1,)], 0, dtype, consts=(0, 3))
    builders.append(b)
    feeds += f
    check_merged(builders, tmp_path, feeds)


@pytest.mark.parametrize("src", [np.int16, np.int32, np.uint32, np.float32], ids=_ids)
def test_cast(src, tmp_path):
    """To int8, int16, int32, uint32, float32: wrapping, rounding, float specials and values
    beyond every integer range."""
    dsts = [np.int8, np.int16, np.int32, np.uint32, np.float32]
    check_merged([cast_model(src, d) for d in dsts], tmp_path,
                 [cast_inputs(src, 3 + k) for k in range(len(dsts))])


def test_same_width_integer_cast_is_a_view(tmp_path):
    """int32 -> uint32 -> int32 between other operators: both CASTs are views (no code); a CAST
    from the graph input straight to the graph output stays a copy."""
    b = GraphBuilder()
    x = b.input("x", (2, 9), np.int32)
    u = b.tensor("u", (2, 9), np.uint32)
    v = b.tensor("v", (2, 9), np.int32)
    z = b.tensor("z", (2, 9), np.int32)
    w = b.tensor("w", (2, 9), np.uint32)
    b.op("CAST", [x], [u])
    b.op("CAST", [u], [v])
    b.op("ADD", [v, x], [z], fused_activation_function=0)
    b.op("CAST", [x], [w])
    b.output(z)
    b.output(w)
    graph = b.build()
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert [row["view"] for row in compiled.op_rows] == [True, True, False, False]
    check_inputs(graph, tmp_path / "verify", [sample((2, 9), np.int32, 4)])


def test_int8_cast_uses_the_table(tmp_path):
    check_merged([cast_model(np.int8, d) for d in (np.int16, np.int32, np.float32)], tmp_path)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=_ids)
@pytest.mark.parametrize("op", ["MEAN", "SUM"])
def test_mean_sum(op, dtype, tmp_path):
    """Every axis set of the runtime tests, keep_dims both ways, equal and different input /
    output quantization."""
    builders = []
    for axes, keep_dims, same in itertools.product(REDUCE_AXES, (True, False), (True, False)):
        seed = len(axes) * 7 + sum(axes) + (op == "SUM")
        qin, qout = reduce_quant(dtype, same, seed)
        if op == "SUM" and dtype != np.float32:
            qout = (qin[0] * 8, qout[1])
        builders.append(reduce_model(op, REDUCE_SHAPE, axes, keep_dims, dtype, qin, qout))
    graph = merge(builders).build()
    inputs = [sample(REDUCE_SHAPE, dtype, k, scale=100.0) for k in range(len(builders))]
    check_inputs(graph, tmp_path, inputs)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=_ids)
def test_mean_large_spatial(dtype, tmp_path):
    """A 96x96 spatial mean: float32 order over many terms, a large 1/n fold."""
    shape = (1, 96, 96, 2)
    qin, qout = reduce_quant(dtype, False, 3)
    graph = reduce_model("MEAN", shape, (1, 2), True, dtype, qin, qout).build()
    check_inputs(graph, tmp_path, [sample(shape, dtype, 4, scale=1000.0)])


@pytest.mark.parametrize("dtype", [np.int8, np.float32], ids=_ids)
def test_reduce_max_min(dtype, tmp_path):
    builders = []
    for op, axes in itertools.product(["REDUCE_MAX", "REDUCE_MIN"], REDUCE_AXES[:7]):
        qin, _ = reduce_quant(dtype, True, 1)
        builders.append(reduce_model(op, REDUCE_SHAPE, axes, False, dtype, qin, qin))
    check_merged(builders, tmp_path)


def test_reduce_max_min_float_specials(tmp_path):
    """NaN never wins, infinities clamp to the finite range, the first of +0.0 / -0.0 stays."""
    rng = np.random.default_rng(5)
    pool = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 3e38, -3e38], np.float32)
    builders = [reduce_model(op, (4, 3), (0,), False, np.float32) for op in ("REDUCE_MAX", "REDUCE_MIN")]
    check_merged(builders, tmp_path, [pool[rng.integers(0, len(pool), (200, 4, 3))]
                                      for _ in builders])


@pytest.mark.parametrize("model", ["audio_preprocessor_int8", "audio_preprocessor_float"])
def test_audio_preprocessor_operators(model, tmp_path):
    """The preprocessor's CAST (uint32 <-> int32, int16 -> int32, int32 -> int8), STRIDED_SLICE
    and CONCATENATION (constant inputs), extracted."""
    graph = read_tflite(MODELS / f"{model}.tflite")
    wanted = {"CAST", "STRIDED_SLICE", "CONCATENATION"}
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode in wanted]
    assert len(indices) >= 4
    check_merged([as_builder(extract_operator(graph, i)) for i in indices], tmp_path)


def test_sanitized(tmp_path):
    builders = [
        transpose_model((2, 3, 1, 4), (3, 1, 0, 2), np.int16),
        slice_model((3, 4, 5), [2, 3, 4], [0, 0, 1], [-1, -2, -1], np.float32),
        pad_model("PADV2", np.int8, (1, 2, 3, 2, 2), [[0, 1], [1, 0], [0, 0], [2, 2], [1, 0]], -3),
        reduce_model("MEAN", REDUCE_SHAPE, (1, 3), False, np.int8, (0.05, 3), (0.02, -4)),
        reduce_model("REDUCE_MAX", REDUCE_SHAPE, (2, 1), True, np.float32),
        cast_model(np.float32, np.uint32),
    ]
    b, feeds = concat_model([(5,), (7,), (3,), (1,)], 0, np.int32, consts=(0, 3))
    graph = merge(builders + [b]).build()
    inputs = sample_inputs(graph)
    inputs[5] = cast_inputs(np.float32, 1)
    assert inputs[5].shape[1:] == CAST_SHAPE
    check_inputs(graph, tmp_path, inputs, sanitize=True)


def test_pad_output_shape_with_zero_padding_is_a_copy(tmp_path):
    """All-zero paddings collapse to one contiguous copy."""
    compiled = compile_model(pad_model("PAD", np.int8, (2, 3), [[0, 0], [0, 0]]).build(),
                             tmp_path, name="m")
    assert "mf_pad(" in compiled.source.source
    assert ".ndims = 1" in compiled.source.source


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=_ids)
def test_resize_nearest_every_case(dtype, tmp_path):
    """Every size and option combination of the runtime tests in one build per dtype."""
    quant = (None, None) if dtype == np.float32 else (0.05, 0)
    check_merged([resize_model(dtype, shape, size, *options, quant=quant)
                  for shape, size in RESIZE_CASES for options in RESIZE_OPTIONS], tmp_path)
