"""Float parity on the ONNX backend node tests that ship inside the onnx package
(``onnx.backend.test.case.node``: the peer conformance suite) and on the PyTorch-exported
models stored beside them (``onnx/backend/test/data/pytorch-*``).

A node test applies when all its operators are ones the frontend lowers and its run-time inputs
and outputs are float32. Its weight / parameter inputs are frozen into initializers (a static-
weight compiler takes them as constants). Bar: SQNR >= 100 dB against onnxruntime, and the
suite's own tolerance against the stored outputs. ``EXCLUDED`` lists, by name pattern, the
cases that need what TFLM (and so the IR) lacks; each must fail with a one-line error.
"""

from __future__ import annotations

import glob
import os
import re

import numpy as np
import pytest

from microforge.errors import MicroforgeError
from microforge.frontends import write_tflite
from microforge.frontends.onnx import parse_onnx
from microforge.frontends.onnx.registry import CONVERTERS
from microforge.quantize.report import sqnr_db
from tests.builders.onnx_models import freeze, onnx_module, ort_run, run_in_onnx_layout
from tests.oracle import tflm_run

onnx = onnx_module()

EXCLUDED = {  # name pattern -> why the case is out of scope (a clean error is checked)
    r"pool_3d|Conv3d|MaxPool3d|AvgPool3d|PReLU_3d":
        "3-D spatial (5-D tensors): TFLM has no 3-D convolution or pooling",
    r"(?i)pool.*dilation": "dilated pooling: TFLite pooling has no dilation",
    r"pool_2d_ceil$": "ceil_mode=1 with a partial last window",
    r"averagepool_2d_(same_lower|pads)$": "average pooling that excludes padding other than SAME's split",
    r"training_mode": "BatchNormalization in training mode (extra outputs)",
    r"causal_conv": "Conv weights computed at run time",
    r"depthtospace|spacetodepth|PixelShuffle": "6-D TRANSPOSE (the runtime transposes at most 5-D)",
    r"^test_gather_": "Gather of arbitrary indices (no GATHER kernel in the IR)",
    r"gemm_default_matrix_bias": "a Gemm C that differs per row",
    r"gemm_(transposeA|all_attributes)|operator_(addmm|mm)$": "Gemm with transA or a run-time B",
    r"lstm_(with_peepholes|batchwise|reverse|bidirectional)": "LSTM variants TFLM lacks",
    r"^test_matmul_(3d|4d|bcast|1d)": "MatMul of two run-time tensors (no BATCH_MATMUL kernel)",
    r"empty_set|allowzero_reordered|slice_start_out_of_bounds": "tensors with an empty dimension",
    r"resize_.*(linear|cubic|crop)": "Resize modes other than nearest",
    r"resize_(downsample_.*nearest|upsample_sizes_nearest($|_axes|_not_larger|_floor|_round|_ceil))":
        "nearest Resize whose coordinate rounding differs from TFLite's for these sizes",
    r"Embedding|non_float_params": "integer model inputs",
    r"operator_(add|addconstant)": "float64 model inputs",
    r"ConvTranspose|ELU|GLU|LogSoftmax|log_softmax|PoissonNLL|SELU|selu|Softmin|Softplus|Softsign"
    r"|operator_(basic|chunk|convtranspose|exp|max$|min$|params|pow|repeat|sqrt|symbolic)":
        "operators the frontend does not lower (Elu, Split, LogSoftmax, Exp, Neg, Max, Tile, ...)",
    r"ReflectionPad|ReplicationPad|operator_pad": "reflect / edge padding (no MIRROR_PAD kernel)",
    r"PReLU_\dd_multiparam": "a PRelu slope that does not broadcast under ONNX's rules (old export)",
}
_SKIP_ONLY = {"Identity", "Shape", "Cast", "Dropout", "Constant"}


def excluded(name: str) -> str | None:
    return next((why for pattern, why in EXCLUDED.items() if re.search(pattern, name)), None)


def _node_cases():
    from onnx.backend.test.case.node import collect_testcases

    cases = []
    for case in collect_testcases():
        if case.model is None or not case.data_sets:
            continue
        ops = {n.op_type for n in case.model.graph.node}
        if not ops - _SKIP_ONLY or not ops <= set(CONVERTERS) | {"Constant"}:
            continue
        inputs, outputs = case.data_sets[0]
        model, feeds = freeze(case.model, list(inputs))
        if not feeds or any(np.asarray(o).dtype != np.float32 for o in outputs):
            continue  # not a float32 model once its parameters are constants
        cases.append(pytest.param(model.SerializeToString(), feeds, list(outputs),
                                  (case.rtol, case.atol), id=case.name))
    return cases


def _torch_cases():
    from onnx import numpy_helper

    root = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    cases = []
    for d in sorted(glob.glob(os.path.join(root, "pytorch-*", "test_*"))):
        def load(kind, d=d):
            pattern = os.path.join(d, "test_data_set_0", f"{kind}_*.pb")
            return [numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(pattern))]
        with open(os.path.join(d, "model.onnx"), "rb") as f:
            cases.append(pytest.param(f.read(), load("input"), load("output"), (1e-3, 1e-7),
                                      id=os.path.basename(d)))
    return cases


NODE_CASES = _node_cases()
TORCH_CASES = _torch_cases()


def _check(request, data: bytes, feeds, stored, tolerance) -> None:
    name = request.node.callspec.id
    why = excluded(name)
    if why is not None:
        with pytest.raises(MicroforgeError):
            run_in_onnx_layout(parse_onnx(data, name), feeds)
        return
    got = run_in_onnx_layout(parse_onnx(data, name), feeds)
    want = ort_run(_runnable(data), feeds)
    for g, w, s in zip(got, want, stored):
        g = g.reshape(w.shape)
        if np.any(w):
            assert sqnr_db(w, g) >= 100, f"{name}: {sqnr_db(w, g):.1f} dB against onnxruntime"
        else:
            np.testing.assert_array_equal(g, w)
        np.testing.assert_allclose(g, np.reshape(s, w.shape), rtol=tolerance[0], atol=tolerance[1])


def _runnable(data: bytes) -> bytes:
    """The model as onnxruntime runs it: old-opset files (the pytorch-converted ones are opset 6)
    converted to opset 13 with onnx's version converter, as the frontend reads them."""
    model = onnx.load_model_from_string(data)
    version = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
    if version >= 13:
        return data
    return onnx.version_converter.convert_version(model, 13).SerializeToString()


@pytest.mark.parametrize("data, feeds, stored, tolerance", NODE_CASES)
def test_node(request, data, feeds, stored, tolerance):
    _check(request, data, feeds, stored, tolerance)


@pytest.mark.parametrize("data, feeds, stored, tolerance", TORCH_CASES)
def test_pytorch_converted(request, data, feeds, stored, tolerance):
    _check(request, data, feeds, stored, tolerance)


TFLM_ARENA_TOO_SMALL = {"test_operator_conv"}  # needs more than tests/oracle.py's 4 MB arena


@pytest.mark.slow
@pytest.mark.parametrize("data, feeds, stored, tolerance", [
    p for p in NODE_CASES + TORCH_CASES if excluded(p.id) is None and p.id not in TFLM_ARENA_TOO_SMALL])
def test_tflite_micro(request, data, feeds, stored, tolerance):
    """The .tflite written from each applicable case runs in tflite-micro, >= 100 dB against
    onnxruntime (float kernels: TFLM's reference ones)."""
    graph = parse_onnx(data, request.node.callspec.id)
    source = graph.source
    x = [f if p is None else f.transpose(p) for f, p in zip(feeds, source.input_perms)]
    got = tflm_run(write_tflite(graph), [x])
    for w, y, p in zip(ort_run(_runnable(data), feeds), got, source.output_perms):
        y = (y[0] if p is None else y[0].transpose(np.argsort(p))).reshape(w.shape)
        if np.any(w):
            assert sqnr_db(w, y) >= 100
        else:
            np.testing.assert_array_equal(y, w)


def test_applicable_count():
    """The suite keeps covering what it covers today (numbers in docs/onnx.md)."""
    node = sum(excluded(p.id) is None for p in NODE_CASES)
    torch = sum(excluded(p.id) is None for p in TORCH_CASES)
    assert node >= 170 and torch >= 50, (node, torch)
