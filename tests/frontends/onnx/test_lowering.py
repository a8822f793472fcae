"""Lowering rules on hand-made ONNX graphs: layout folding (tf2onnx's NHWC transposes, Flatten
after a convolution), batch-norm and activation folding, constant layouts, value names, and the
one-line errors for unsupported operators and broken files."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.errors import ModelError, ToolError, UnsupportedOpError
from microforge.frontends import read_model
from microforge.frontends.onnx import lower_onnx, parse_onnx, sniff_onnx
from microforge.frontends.onnx.layout import after_transpose, between, insert_axes
from microforge.ir import Activation
from microforge.quantize.report import sqnr_db
from tests.builders.cli import assert_one_line_error, cli
from tests.builders.onnx_models import onnx_module, ort_run, run_in_onnx_layout

onnx = onnx_module()
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

RNG = np.random.default_rng(7)


def model(nodes, inputs, outputs, inits=(), opset=13) -> bytes:
    """ONNX bytes of a graph: ``inputs`` / ``outputs`` as (name, shape), ``inits`` as
    (name, array)."""
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in inits])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return m.SerializeToString()


def weights(*shape):
    return RNG.normal(0, 0.5, shape).astype(np.float32)


def check_parity(data: bytes, *shapes):
    xs = [RNG.normal(size=s).astype(np.float32) for s in shapes]
    graph = parse_onnx(data)
    for want, got in zip(ort_run(data, xs), run_in_onnx_layout(graph, xs)):
        assert sqnr_db(want, got.reshape(want.shape)) >= 100
    return graph


def opcodes(graph):
    return [op.opcode for op in graph.main.operators]


def test_layout_algebra():
    assert between((0, 2, 3, 1), (0, 1, 2, 3)) == (0, 3, 1, 2)
    x = np.arange(24).reshape(1, 2, 3, 4)
    perm = (0, 2, 3, 1)
    onnx_perm = (0, 3, 1, 2)
    ir = x.transpose(perm)
    y = x.transpose(onnx_perm)
    assert np.array_equal(y.transpose(after_transpose(perm, onnx_perm)), ir)
    assert insert_axes((0, 2, 1), [1]) == (0, 1, 3, 2)  # (N, L, C) -> (N, 1, L, C)


def test_tf2onnx_nhwc_transposes_fold_away():
    """NHWC input -> Transpose to NCHW -> Conv -> Transpose back: no TRANSPOSE, NHWC in/out."""
    data = model(
        [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
         helper.make_node("Conv", ["t", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("Transpose", ["r"], ["y"], perm=[0, 2, 3, 1])],
        [("x", [1, 8, 8, 3])], [("y", [1, 8, 8, 4])],
        [("w", weights(4, 3, 3, 3)), ("b", weights(4))])
    graph = check_parity(data, (1, 8, 8, 3))
    assert opcodes(graph) == ["CONV_2D"]
    assert graph.main.operators[0].options["fused_activation_function"] == Activation.RELU
    assert graph.source.input_perms == (None,) and graph.source.output_perms == (None,)


@pytest.mark.parametrize("spatial, transposes", [(4, 1), (1, 0)])
def test_flatten_after_conv_needs_nchw_order(spatial, transposes):
    """Flatten of an NCHW tensor reads C-major order: a TRANSPOSE unless H = W = 1."""
    data = model(
        [helper.make_node("Conv", ["x", "w"], ["c"]),
         helper.make_node("Flatten", ["c"], ["f"]),
         helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)],
        [("x", [1, 3, spatial, spatial])], [("y", [1, 5])],
        [("w", weights(6, 3, 1, 1)), ("fc", weights(5, 6 * spatial * spatial))])
    graph = check_parity(data, (1, 3, spatial, spatial))
    assert opcodes(graph).count("TRANSPOSE") == transposes
    assert graph.source.input_perms == ((0, 2, 3, 1),)


def test_batchnorm_folds_into_conv_else_mul_add():
    bn = [("s", RNG.uniform(0.5, 1.5, 4)), ("bb", weights(4)), ("m", weights(4)),
          ("v", RNG.uniform(0.5, 2, 4))]
    folded = model(
        [helper.make_node("Conv", ["x", "w"], ["c"], group=1),
         helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"])],
        [("x", [1, 2, 5, 5])], [("y", [1, 4, 3, 3])], [("w", weights(4, 2, 3, 3)), *bn])
    assert opcodes(check_parity(folded, (1, 2, 5, 5))) == ["CONV_2D"]
    alone = model([helper.make_node("BatchNormalization", ["x", "s", "bb", "m", "v"], ["y"])],
                  [("x", [1, 4, 3, 3])], [("y", [1, 4, 3, 3])], bn)
    assert opcodes(check_parity(alone, (1, 4, 3, 3))) == ["MUL", "ADD"]


def test_depthwise_with_multiplier_and_grouped_conv():
    data = model(
        [helper.make_node("Conv", ["x", "dw"], ["d"], group=4, strides=[2, 2], pads=[1, 1, 1, 1]),
         helper.make_node("Conv", ["d", "g"], ["y"], group=2, dilations=[2, 2],
                          pads=[2, 2, 2, 2])],
        [("x", [1, 4, 9, 9])], [("y", [1, 4, 5, 5])],
        [("dw", weights(8, 1, 3, 3)), ("g", weights(4, 4, 3, 3))])
    graph = check_parity(data, (1, 4, 9, 9))
    assert opcodes(graph) == ["DEPTHWISE_CONV_2D", "CONV_2D"]  # pads 1,1 at stride 2 on 9: SAME


def test_channel_constants_concat_softmax_and_clip_in_nhwc():
    """A (1, C, 1, 1) constant is laid out (1, 1, 1, C); Concat / Softmax over C address the
    last IR axis; Clip(-1, 1) becomes MAXIMUM / MINIMUM."""
    data = model(
        [helper.make_node("Conv", ["x", "w"], ["c"]),
         helper.make_node("Mul", ["c", "k"], ["m"]),
         helper.make_node("Concat", ["m", "c"], ["cc"], axis=1),
         helper.make_node("Clip", ["cc", "lo", "hi"], ["cl"]),
         helper.make_node("Softmax", ["cl"], ["y"], axis=1)],
        [("x", [1, 3, 4, 4])], [("y", [1, 4, 4, 4])],
        [("w", weights(2, 3, 1, 1)), ("k", weights(1, 2, 1, 1)), ("lo", np.float32(-1)),
         ("hi", np.float32(1))])
    graph = check_parity(data, (1, 3, 4, 4))
    assert opcodes(graph) == ["CONV_2D", "MUL", "CONCATENATION", "MAXIMUM", "MINIMUM", "SOFTMAX"]
    assert graph.main.operators[2].options["axis"] == 3
    assert graph.source.output_perms == ((0, 2, 3, 1),)


def test_matmul_then_add_is_one_fully_connected():
    """torch's Linear on a 3-D input exports MatMul + Add: one FULLY_CONNECTED with its bias."""
    data = model([helper.make_node("MatMul", ["x", "w"], ["m"]),
                  helper.make_node("Add", ["m", "b"], ["y"])],
                 [("x", [1, 5, 6])], [("y", [1, 5, 3])], [("w", weights(6, 3)), ("b", weights(3))])
    graph = check_parity(data, (1, 5, 6))
    assert opcodes(graph) == ["FULLY_CONNECTED"]
    assert graph.main.operators[0].options["keep_num_dims"]


def test_ir_tensors_keep_onnx_names():
    data = model([helper.make_node("Conv", ["x", "w"], ["conv_out"]),
                  helper.make_node("Sigmoid", ["conv_out"], ["y"])],
                 [("x", [1, 3, 4, 4])], [("y", [1, 2, 4, 4])], [("w", weights(2, 3, 1, 1))])
    lowered = lower_onnx(data)
    tensors = lowered.graph.main.tensors
    for name in ("x", "conv_out", "y"):
        index, perm = lowered.values[name]
        assert tensors[index].name == name and perm == (0, 2, 3, 1)


def test_pad_and_pooling_padding_rules():
    data = model(
        [helper.make_node("Pad", ["x", "pads", "val"], ["p"], mode="constant"),
         helper.make_node("MaxPool", ["p"], ["mp"], kernel_shape=[3, 3], pads=[0, 0, 1, 1]),
         helper.make_node("AveragePool", ["mp"], ["y"], kernel_shape=[2, 2], pads=[1, 1, 1, 1],
                          count_include_pad=1)],
        [("x", [1, 2, 5, 5])], [("y", [1, 2, 6, 6])])
    m = onnx.load_model_from_string(data)
    m.graph.initializer.extend([numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 0, 0, 1]), "pads"),
                                numpy_helper.from_array(np.array(0.5, np.float32), "val")])
    data = m.SerializeToString()
    assert opcodes(check_parity(data, (1, 2, 5, 5))) == [
        "PADV2", "PADV2", "MAX_POOL_2D", "PAD", "AVERAGE_POOL_2D"]


@pytest.mark.parametrize("auto_pad, include, ops", [
    ("SAME_UPPER", 0, ["AVERAGE_POOL_2D"]), ("SAME_UPPER", 1, ["PAD", "AVERAGE_POOL_2D"]),
    ("SAME_LOWER", 1, ["PAD", "AVERAGE_POOL_2D"])])
def test_average_pool_counts_padding_only_when_asked(auto_pad, include, ops):
    data = model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2],
                                   auto_pad=auto_pad, count_include_pad=include)],
                 [("x", [1, 2, 5, 5])], [("y", [1, 2, 3, 3])])
    assert opcodes(check_parity(data, (1, 2, 5, 5))) == ops


def test_unsupported_operator_is_one_line(tmp_path):
    data = model([helper.make_node("Erf", ["x"], ["y"], name="erf_1")],
                 [("x", [1, 4])], [("y", [1, 4])])
    with pytest.raises(UnsupportedOpError, match=r"ONNX node 'erf_1' \(Erf\) is not supported; "
                                                 r"supported: Add, "):
        read_model(data)
    path = tmp_path / "erf.onnx"
    path.write_bytes(data)
    code, _, err = cli("inspect", path)
    assert_one_line_error(code, err, 1, "erf.onnx", "erf_1", "Erf", "supported:")


def test_batch_matmul_is_one_line():
    data = model([helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")],
                 [("a", [1, 2, 3]), ("b", [1, 3, 2])], [("y", [1, 2, 2])])
    with pytest.raises(UnsupportedOpError, match="BATCH_MATMUL"):
        parse_onnx(data)


def test_malformed_node_is_a_model_error():
    """A Conv without its weight input: one line naming the node, no traceback."""
    data = model([helper.make_node("Conv", ["x"], ["y"])], [("x", [1, 3, 4, 4])],
                 [("y", [1, 2, 4, 4])])
    with pytest.raises(ModelError, match=r"ONNX node 'y' \(Conv\)"):
        parse_onnx(data)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_file_is_a_clean_model_error(tmp_path, cut):
    data = model([helper.make_node("Conv", ["x", "w"], ["y"])], [("x", [1, 3, 4, 4])],
                 [("y", [1, 2, 4, 4])], [("w", weights(2, 3, 1, 1))])
    assert sniff_onnx(data)
    broken = data[: int(len(data) * cut)]
    with pytest.raises(ModelError, match="ONNX"):
        read_model(broken)
    path = tmp_path / "broken.onnx"
    path.write_bytes(broken)
    code, _, err = cli("inspect", path)
    assert_one_line_error(code, err, 1, "broken.onnx")


def test_sniffing_is_by_content():
    assert not sniff_onnx(b"\x08\x07garbage")
    assert not sniff_onnx(b"\x1c\x00\x00\x00TFL3")
    assert not sniff_onnx(b"\x89HDF\r\n\x1a\n")


def test_missing_onnx_package_is_one_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ToolError, match=r"pip install 'microforge\[onnx\]'"):
        parse_onnx(model([], [("x", [1])], [("x", [1])]))
