"""The operator table (microforge.ir.ops) against the runtime, the C backend, the TFLite schema
and the shared models: every registered kernel has a row, every row has a kernel and a C emitter
unless it says why not, the enums equal the schema's, reading decodes them and writing encodes
them unchanged."""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest
import tflite

from microforge.backends.c.emitter import c_supported_ops
from microforge.frontends.tflite import schema
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir import OPS, Activation, Operator, Padding, Role, op_def
from microforge.ir.builder import GraphBuilder
from microforge.ir.dtypes import TensorType
from microforge.ir.ops import FullyConnectedWeightsFormat
from microforge.report.summary import summarize
from microforge.runtime.registry import lookup, supported_ops
from tests.oracle import MODELS

ALL_MODELS = sorted(p.name for p in MODELS.glob("*.tflite"))


def test_every_registered_kernel_has_a_row():
    assert sorted(set(supported_ops()) - set(OPS)) == []


@pytest.mark.parametrize("name", sorted(OPS))
def test_a_row_has_a_runtime_kernel_unless_it_says_why_not(name):
    row = OPS[name]
    has_kernel = lookup(name) is not None
    assert has_kernel == (row.no_runtime is None), (
        f"{name}: kernel registered={has_kernel} but no_runtime={row.no_runtime!r}")


@pytest.mark.parametrize("name", sorted(OPS))
def test_a_row_has_a_c_emitter_unless_it_says_why_not(name):
    row = OPS[name]
    has_emitter = name in c_supported_ops()
    assert has_emitter == row.c_supported, (
        f"{name}: C emitter={has_emitter} but no_runtime={row.no_runtime!r}, no_c={row.no_c!r}")


def test_every_c_emitter_has_a_row():
    assert sorted(set(c_supported_ops()) - set(OPS)) == []


def _schema_enum(module: str) -> dict[str, int]:
    cls = getattr(importlib.import_module(f"tflite.{module}"), module)
    return {k: v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


@pytest.mark.parametrize("enum, module", [
    (Activation, "ActivationFunctionType"),
    (Padding, "Padding"),
    (FullyConnectedWeightsFormat, "FullyConnectedOptionsWeightsFormat"),
    (TensorType, "TensorType"),
])
def test_ir_enums_equal_the_tflite_schema(enum, module):
    assert {m.name: m.value for m in enum} == _schema_enum(module)


@pytest.mark.parametrize("name", sorted(set(OPS) & set(schema.OPTIONS_OF)))
def test_enum_options_are_fields_of_the_options_table(name):
    fields = {schema.camel_to_snake(f) for f, _ in schema.options_fields(schema.OPTIONS_OF[name])}
    assert set(OPS[name].options) <= fields


def test_reading_decodes_enum_options_to_named_members():
    seen = set()
    for name in ALL_MODELS:
        for op in read_tflite(MODELS / name).main.operators:
            row = op_def(op.opcode)
            for key, enum in (row.options.items() if row is not None and not op.custom else ()):
                if key in op.options:
                    assert type(op.options[key]) is enum, (name, op.opcode, key, op.options[key])
                    seen.add((op.opcode, key))
    # the shared models exercise every enum the kernels read
    assert {("CONV_2D", "padding"), ("DEPTHWISE_CONV_2D", "fused_activation_function"),
            ("AVERAGE_POOL_2D", "padding"), ("FULLY_CONNECTED", "weights_format"),
            ("SVDF", "fused_activation_function"),
            ("UNIDIRECTIONAL_SEQUENCE_LSTM", "fused_activation_function")} <= seen
    lstm = read_tflite(MODELS / "trained_lstm.tflite").main.operators[0]
    assert lstm.options["fused_activation_function"] is Activation.TANH


def test_builder_names_enum_options_and_keeps_unknown_values():
    b = GraphBuilder()
    x = b.input("x", (1, 4), np.float32)
    y, z = b.tensor("y", (1, 4), np.float32), b.tensor("z", (1, 4), np.float32)
    b.op("ADD", [x, x], [y], fused_activation_function=3)
    b.op("MUL", [y, x], [z], fused_activation_function=9)
    add, mul = b.build().main.operators
    assert add.options["fused_activation_function"] is Activation.RELU6
    assert type(mul.options["fused_activation_function"]) is int


@pytest.mark.parametrize("name", ALL_MODELS)
def test_writing_a_read_model_is_a_fixed_point(name):
    once = write_tflite(read_tflite(MODELS / name))
    assert write_tflite(read_tflite(once)) == once


def test_enum_options_are_written_as_the_same_integers():
    b = GraphBuilder()
    x = b.input("x", (1, 6, 6, 2), np.float32)
    y = b.tensor("y", (1, 3, 3, 2), np.float32)
    b.op("MAX_POOL_2D", [x], [y], padding=Padding.VALID, stride_w=2, stride_h=2, filter_width=2,
         filter_height=2, fused_activation_function=Activation.RELU)
    b.output(y)
    named = b.build()
    raw = copy.deepcopy(named)
    raw.main.operators[0] = Operator("MAX_POOL_2D", [x], [y], options=dict(
        padding=1, stride_w=2, stride_h=2, filter_width=2, filter_height=2,
        fused_activation_function=1))
    assert write_tflite(named) == write_tflite(raw)
    again = read_tflite(write_tflite(raw)).main.operators[0].options
    assert again["padding"] is Padding.VALID
    assert again["fused_activation_function"] is Activation.RELU


def test_operator_without_options_table_is_written_without_one():
    data = (MODELS / "keyword_scrambled.tflite").read_bytes()
    graph = read_tflite(data)
    quantize = [op for op in graph.main.operators if op.opcode == "QUANTIZE"]
    assert quantize and all(op.options_type == "NONE" for op in quantize)
    model = tflite.Model.GetRootAs(write_tflite(graph), 0)
    sg = model.Subgraphs(0)
    codes = [model.OperatorCodes(sg.Operators(i).OpcodeIndex()).BuiltinCode()
             for i in range(sg.OperatorsLength())]
    for i, code in enumerate(codes):
        if code == schema.BUILTIN_CODES["QUANTIZE"]:
            assert sg.Operators(i).BuiltinOptionsType() == 0


def _input_kind(sg, t: int) -> str:
    if t < 0:
        return "absent"
    tensor = sg.tensors[t]
    return "variable" if tensor.is_variable else "constant" if tensor.data is not None else "value"


@pytest.mark.parametrize("name", ALL_MODELS)
def test_input_roles_match_the_shared_models(name):
    sg = read_tflite(MODELS / name).main
    for op in sg.operators:
        row = op_def(op.opcode)
        if row is None:
            continue
        assert row.variadic or len(op.inputs) <= len(row.inputs), op.opcode
        for k, t in enumerate(op.inputs):
            kind, role = _input_kind(sg, t), row.role(k)
            if role in (Role.WEIGHTS, Role.BIAS, Role.PARAM):
                assert kind in ("constant", "absent"), (op.opcode, k, kind)
            elif role is Role.STATE:
                assert kind in ("variable", "absent"), (op.opcode, k, kind)
            else:
                assert kind != "variable", (op.opcode, k, kind)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_shape_rules_match_the_shared_models(name):
    sg = read_tflite(MODELS / name).main
    for op in sg.operators:
        row = op_def(op.opcode)
        if row is not None and row.shape is not None:
            assert row.shape(op, sg) == sg.tensors[op.outputs[0]].shape, op.opcode


def test_macs_come_from_the_rows():
    b = GraphBuilder()
    x = b.input("x", (1, 8, 8, 3), np.float32)
    w = b.const("w", np.zeros((4, 3, 3, 3), np.float32))
    dw = b.const("dw", np.zeros((1, 3, 3, 4), np.float32))
    fw = b.const("fw", np.zeros((5, 256), np.float32))
    c, d = b.tensor("c", (1, 8, 8, 4), np.float32), b.tensor("d", (1, 8, 8, 4), np.float32)
    f, r = b.tensor("f", (1, 5), np.float32), b.tensor("r", (1, 5), np.float32)
    b.op("CONV_2D", [x, w, -1], [c], padding=Padding.SAME, stride_w=1, stride_h=1)
    b.op("DEPTHWISE_CONV_2D", [c, dw, -1], [d], padding=Padding.SAME, stride_w=1, stride_h=1,
         depth_multiplier=1)
    b.op("FULLY_CONNECTED", [d, fw, -1], [f])
    b.op("RELU", [f], [r])
    b.output(r)
    summary = summarize(b.build())
    assert [op.macs for op in summary.operators] == [8 * 8 * 4 * 27, 8 * 8 * 4 * 9, 5 * 256, 0]


def test_an_operator_without_kernel_still_counts_its_macs():
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 2), np.float32)
    shape = b.const("shape", np.array([1, 8, 8, 3], np.int32))
    w = b.const("w", np.zeros((3, 2, 2, 2), np.float32))
    y = b.tensor("y", (1, 8, 8, 3), np.float32)
    b.op("TRANSPOSE_CONV", [shape, w, x], [y], padding=Padding.SAME, stride_w=2, stride_h=2)
    b.output(y)
    summary = summarize(b.build())
    assert summary.operators[0].macs == 4 * 4 * 2 * (3 * 2 * 2)
    assert not summary.operators[0].supported
