"""The command line: every user error is one line on stderr with exit code 1 or 2, no traceback."""

import json
import shutil

import numpy as np
import pytest

from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS


def test_inspect_table_and_resolver():
    code, out, err = cli("inspect", MODELS / "micro_speech_quantized.tflite")
    assert code == 0, err
    assert "DEPTHWISE_CONV_2D" in out and "FULLY_CONNECTED" in out
    assert "MicroMutableOpResolver<4>" in out
    for method in ("AddReshape", "AddDepthwiseConv2D", "AddFullyConnected", "AddSoftmax"):
        assert f"op_resolver.{method}();" in out


def test_inspect_json_totals():
    code, out, err = cli("inspect", "--json", MODELS / "person_detect.tflite")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["operators"]) == 31
    assert data["macs"] == sum(op["macs"] for op in data["operators"])
    assert data["weight_bytes"] > 200_000
    assert data["tflm_resolver"] == [
        "AddDepthwiseConv2D", "AddConv2D", "AddAveragePool2D", "AddReshape", "AddSoftmax",
    ]
    assert data["unsupported"] == []


def _unknown_op_model(tmp_path):
    """A model with an operator microforge has no kernel for (a vendor custom operator)."""
    from microforge.frontends import write_tflite
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()
    x = b.input("x", (1, 4), np.int8, scale=0.1, zero_point=0)
    y = b.tensor("y", (1, 4), np.int8, scale=0.1, zero_point=0)
    b.custom_op("MyVendorOp", [x], [y])
    b.output(y)
    path = tmp_path / "vendor.tflite"
    path.write_bytes(write_tflite(b.build()))
    return path


def test_inspect_flags_unsupported_ops(tmp_path):
    code, out, err = cli("inspect", _unknown_op_model(tmp_path))
    assert code == 0, err
    assert "UNSUPPORTED" in out and "MyVendorOp (operator 0)" in out


def test_inspect_vela_model_lists_the_ethos_u_operator():
    """Vela's output: one ethos-u operator, which the runtime emulates; TFLM needs AddEthosU."""
    code, out, err = cli("inspect", MODELS / "person_detect_vela.tflite")
    assert code == 0, err
    assert "ethos-u" in out and "op_resolver.AddEthosU();" in out


def test_truncated_model(tmp_path):
    data = (MODELS / "person_detect.tflite").read_bytes()
    for cut in (7, 100, len(data) // 2, len(data) - 1000):
        bad = tmp_path / f"cut{cut}.tflite"
        bad.write_bytes(data[:cut])
        for command in ("inspect", "run"):
            extra = ["--input", bad] if command == "run" else []
            code, _, err = cli(command, bad, *extra)
            assert_one_line_error(code, err, 1, str(bad))


def test_random_bytes(tmp_path):
    rng = np.random.default_rng(0)
    for k in range(5):
        bad = tmp_path / f"rand{k}.tflite"
        raw = bytearray(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        if k >= 2:  # a plausible header, random body
            raw[4:8] = b"TFL3"
        bad.write_bytes(bytes(raw))
        code, _, err = cli("inspect", bad)
        assert_one_line_error(code, err, 1, str(bad))


def test_missing_model_file(tmp_path):
    code, _, err = cli("inspect", tmp_path / "nope.tflite")
    assert_one_line_error(code, err, 1, "no such file")


def test_run_unsupported_op_names_it(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 4), np.int8))
    code, _, err = cli("run", _unknown_op_model(tmp_path), "--input", x)
    assert_one_line_error(code, err, 1, "MyVendorOp", "operator 0")


def test_run_vela_model_says_emulated(tmp_path):
    pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 96, 96, 1), np.int8))
    code, out, err = cli("run", MODELS / "person_detect_vela.tflite", "--input", x)
    assert code == 0, err
    assert "emulated" in out


def test_run_wrong_shape_and_dtype(tmp_path):
    model = MODELS / "hello_world_int8.tflite"
    bad_shape = tmp_path / "shape.npy"
    np.save(bad_shape, np.zeros((4, 3), np.int8))
    code, _, err = cli("run", model, "--input", bad_shape)
    assert_one_line_error(code, err, 2, "shape")
    bad_dtype = tmp_path / "dtype.npy"
    np.save(bad_dtype, np.zeros((4, 1), np.float32))
    code, _, err = cli("run", model, "--input", bad_dtype)
    assert_one_line_error(code, err, 2, "int8", "float32")
    not_npy = tmp_path / "junk.npy"
    not_npy.write_bytes(b"hello")
    code, _, err = cli("run", model, "--input", not_npy)
    assert_one_line_error(code, err, 2, "junk.npy")


def test_run_writes_outputs_and_never_overwrites(tmp_path):
    model = MODELS / "hello_world_int8.tflite"
    x = tmp_path / "x.npy"
    np.save(x, np.arange(-128, 128, dtype=np.int8).reshape(256, 1))
    out = tmp_path / "y.npz"
    code, stdout, err = cli("run", model, "--input", x, "--output", out)
    assert code == 0, err
    with np.load(out) as y:
        (arr,) = y.values()
        assert arr.shape == (256, 1) and arr.dtype == np.int8
    user_file = tmp_path / "mine.npz"
    user_file.write_bytes(b"precious")
    code, _, err = cli("run", model, "--input", x, "--output", user_file)
    assert_one_line_error(code, err, 2, "already exists", "--force")
    assert user_file.read_bytes() == b"precious"


def test_usage_errors():
    code, _, err = cli("frobnicate")
    assert_one_line_error(code, err, 2, "invalid choice")
    code, _, err = cli("run", MODELS / "hello_world_int8.tflite")
    assert_one_line_error(code, err, 2, "--input")


def test_model_file_is_not_modified(tmp_path):
    src = tmp_path / "m.tflite"
    shutil.copy(MODELS / "hello_world_int8.tflite", src)
    before = src.read_bytes()
    cli("inspect", src)
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((2, 1), np.int8))
    cli("run", src, "--input", x)
    assert src.read_bytes() == before


@pytest.mark.parametrize("bad", [np.zeros((2, 2), np.int8), np.zeros((1,), np.int8)])
def test_api_input_errors(bad):
    import microforge

    model = microforge.load(MODELS / "hello_world_int8.tflite")
    with pytest.raises(microforge.InputError):
        model.run(bad)


def test_relative_output_directory_builds_and_verifies(tmp_path):
    """`-o out` relative to the working directory: the size measurement and the harness build run
    elsewhere and must still find the sources."""
    code, out, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", "out", "--verify",
                         "3", cwd=tmp_path)
    assert code == 0, err
    assert "bit-exact" in out and (tmp_path / "out" / "hello_world_int8.c").is_file()
