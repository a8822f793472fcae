"""The Ethos-U command-stream emulator against microforge's runtime on the original model.

Each model is compiled by Vela (its command stream, weights and scales are Vela's), run through
the emulator inside the runtime (``ethos-u`` kernel) and compared byte for byte with the runtime
on the original model (bit-exact with TFLM). Expected values are never written by hand.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from microforge.backends.ethos_u import VelaConfig, compile_npu
from microforge.backends.ethos_u.check import NPU_EMULATED, check_deployed
from microforge.errors import ModelError
from microforge.frontends import read_model, write_tflite
from microforge.runtime.ethos_u import parse_payload, run_payload
from microforge.runtime.interpreter import Executor
from microforge.runtime.reference import random_inputs_for
from tests.builders.cli import cli
from tests.builders.ops import SAME, VALID, conv_model, conv_weights
from tests.oracle import MODELS

pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")

CONFIGS = ["ethos-u55-64", "ethos-u55-128", "ethos-u55-256", "ethos-u65-256"]


def _compare(graph, accelerator: str, n: int = 40, data: bytes | None = None) -> None:
    npu = compile_npu(graph, VelaConfig(accelerator), data)
    assert npu.npu_ops >= 1, "Vela left everything on the CPU: nothing emulated"
    xs = random_inputs_for(graph, n, 1)
    want = Executor(graph, threads=1).run(xs)[0]
    got = Executor(npu.optimized, threads=1).run(xs)[0]
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


GEOMETRIES = [  # (padding, stride, dilation, kernel, input H x W)
    (SAME, 1, 1, (3, 3), (7, 6)),
    (VALID, 2, 1, (3, 2), (8, 7)),
    (SAME, 1, 2, (3, 3), (9, 7)),
    (SAME, 2, 1, (1, 1), (5, 6)),
]


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("per_channel, act", [(True, 1), (False, 3)])
def test_convolutions_with_strides_padding_dilation_scales(op, geometry, per_channel, act):
    padding, stride, dilation, k, hw = geometry
    c_in, c_out = 3, 6
    w = conv_weights(op, k, c_in, c_out, 7, depth_multiplier=1 if op == "CONV_2D" else 2)
    options = {"padding": padding, "stride_h": stride, "stride_w": stride,
               "dilation_h_factor": dilation, "dilation_w_factor": dilation,
               "fused_activation_function": act}
    graph = conv_model(op, np.int8, (1,) + hw + (c_in,), w, options, per_channel=per_channel,
                       seed=3).build()
    _compare(graph, "ethos-u55-128")


@pytest.mark.parametrize("accelerator", ["ethos-u55-32", "ethos-u65-512"])
def test_conv_on_micro_block_and_two_core_configurations(accelerator):
    w = conv_weights("CONV_2D", (3, 3), 5, 20, 11)
    options = {"padding": SAME, "stride_h": 1, "stride_w": 1, "fused_activation_function": 0}
    _compare(conv_model("CONV_2D", np.int8, (1, 6, 6, 5), w, options, seed=5).build(), accelerator)


def test_int16_convolution():
    w = conv_weights("CONV_2D", (3, 3), 4, 5, 13)
    options = {"padding": SAME, "stride_h": 1, "stride_w": 1, "fused_activation_function": 0}
    _compare(conv_model("CONV_2D", np.int16, (1, 6, 6, 4), w, options, seed=9).build(),
             "ethos-u55-128")


@pytest.mark.parametrize("accelerator", CONFIGS)
@pytest.mark.parametrize("model", ["hello_world_int8", "simple_add_model", "micro_speech_quantized"])
def test_shared_models_fc_add_softmax(model, accelerator):
    path = MODELS / f"{model}.tflite"
    _compare(read_model(path), accelerator, 40, path.read_bytes())


@pytest.mark.slow
@pytest.mark.parametrize("accelerator", CONFIGS)
@pytest.mark.parametrize("model", ["person_detect", "keyword_scrambled"])
def test_shared_models_deployed_check(model, accelerator):
    """Depthwise/pointwise stacks, average pooling, softmax; SVDFs left on the CPU."""
    path = MODELS / f"{model}.tflite"
    npu = compile_npu(read_model(path), VelaConfig(accelerator), path.read_bytes())
    check = check_deployed(npu, 40)
    assert check.ok and check.how == NPU_EMULATED


@pytest.mark.parametrize("accelerator", ["ethos-u55-128", "ethos-u65-256"])
def test_lstm_gates_use_the_npus_own_sigmoid_and_tanh(accelerator):
    """dtln_noise_suppression: Vela lowers its int16 LSTM gates to elementwise ADDs and 1x1
    average pools with the NPU's own ACTIVATION 3 (TANH) / 4 (SIGMOID); whole sequences, states
    kept in Vela's region, against the runtime on the original model."""
    path = MODELS / "dtln_noise_suppression.tflite"
    npu = compile_npu(read_model(path), VelaConfig(accelerator), path.read_bytes())
    check = check_deployed(npu, 16)
    assert check.how == NPU_EMULATED and check.ok, check


@pytest.mark.slow
@pytest.mark.parametrize("accelerator", CONFIGS)
def test_trained_lstm_deployed_check(accelerator):
    path = MODELS / "trained_lstm_int8.tflite"
    npu = compile_npu(read_model(path), VelaConfig(accelerator), path.read_bytes())
    check = check_deployed(npu, 20)
    assert check.how == NPU_EMULATED and check.ok, check


def _hello_payload():
    path = MODELS / "hello_world_int8.tflite"
    npu = compile_npu(read_model(path), VelaConfig("ethos-u55-128"), path.read_bytes())
    sg = npu.optimized.main
    op = sg.operators[npu.subgraph_ops()[0]]
    return sg.tensors[op.inputs[0]].data.tobytes(), sg.tensors[op.inputs[1]].data.tobytes()


def test_an_unknown_command_names_its_index():
    stream, _ = _hello_payload()
    words = np.frombuffer(stream, dtype="<u4").copy()
    start = int(np.nonzero((words & 0xFF) == 2)[0][0]) + 1  # after the CmdStream action's tag
    words[start + 3] = 0x000003FF  # cmd0 code 0x3ff does not exist
    with pytest.raises(ModelError, match=r"command 2 \(word 3\) is an unknown cmd0 word 0x000003ff"):
        parse_payload(words.tobytes())
    with pytest.raises(ModelError, match="COP1"):
        parse_payload(b"\0" * 16)


def test_reading_outside_a_region_is_an_error_naming_the_command():
    stream, flash = _hello_payload()
    payload = parse_payload(stream)
    regions = {0: np.frombuffer(flash, dtype=np.uint8)[None], 1: np.zeros((2, 8), np.uint8)}
    with pytest.raises(ModelError, match=r"command \d+ \(NPU_OP_CONV\).*region 1, which holds 8"):
        run_payload(payload, regions)


def test_runtime_runs_velas_model_file(tmp_path):
    """`microforge run` on Vela's .tflite: the ethos-u operator has a runtime kernel now."""
    import microforge

    path = MODELS / "hello_world_int8.tflite"
    npu = compile_npu(read_model(path), VelaConfig("ethos-u55-128"), path.read_bytes())
    vela_file = tmp_path / "hello_vela.tflite"
    vela_file.write_bytes(npu.vela.tflite)
    x = np.arange(-64, 64, dtype=np.int8).reshape(128, 1)
    got = microforge.load(vela_file).run(x)
    want = microforge.load(write_tflite(npu.graph)).run(x)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    np.save(tmp_path / "x.npy", x)
    code, out, err = cli("run", vela_file, "--input", tmp_path / "x.npy")
    assert code == 0, err
    assert "emulated by microforge's command-stream emulator (not silicon)" in out


def test_a_2d_dma_is_an_error_naming_the_command():
    """No Vela 5.2 stream found uses the DMA's 2D/3D stride modes (DMA0_SRC_REGION bits 9-10): a
    stream that does is refused, naming the command, rather than run with a guessed meaning."""
    from tests.builders.npu_ops import softmax

    npu = compile_npu(softmax((1, 3, 10), np.int8), VelaConfig("ethos-u55-128"))
    sg = npu.optimized.main
    op = sg.operators[npu.subgraph_ops()[0]]
    payload = parse_payload(sg.tensors[op.inputs[0]].data.tobytes())
    dma = next(c for c in payload.commands if c.name == "NPU_SET_DMA0_SRC_REGION")
    commands = [replace(c, param=c.param | (1 << 9)) if c is dma else c for c in payload.commands]
    flash = np.frombuffer(sg.tensors[op.inputs[1]].data.tobytes(), dtype=np.uint8)[None]
    regions = {0: flash, 1: np.zeros((1, sg.tensors[op.inputs[2]].nbytes + 4096), np.uint8)}
    with pytest.raises(ModelError, match=r"command \d+ \(NPU_OP_DMA_START\): only 1D DMA"):
        run_payload(replace(payload, commands=commands), regions)
