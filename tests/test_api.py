"""Public Python API: load, Model (inputs/outputs/run/intermediates/reset), save, Interpreter."""

import numpy as np
import pytest

import microforge
from microforge.frontends.tflite.reader import read_tflite
from tests.builders.arrays import random_inputs
from tests.oracle import MODELS, tflm_run


def test_model_io_descriptions():
    model = microforge.load(MODELS / "person_detect.tflite")
    (inp,) = model.inputs
    assert (inp.name, inp.shape, inp.dtype) == ("input", (1, 96, 96, 1), np.int8)
    assert inp.zero_point == -1 and abs(inp.scale - 0.00784314) < 1e-7
    (out,) = model.outputs
    assert out.shape == (1, 2) and out.scale == 1 / 256 and out.zero_point == -128


def test_load_from_bytes_and_batch_forms():
    data = (MODELS / "hello_world_int8.tflite").read_bytes()
    model = microforge.load(data)
    xs = random_inputs((1, 1), np.int8, 10, seed=3)
    (batched,) = model.run(xs)  # (B, 1, 1): new leading axis
    assert batched.shape == (10, 1, 1)
    (replaced,) = model.run(xs.reshape(10, 1))  # (B, 1): batch replaces the leading 1
    assert replaced.shape == (10, 1)
    np.testing.assert_array_equal(replaced, batched.reshape(10, 1))
    (single,) = model.run(xs[4])  # one sample in the tensor's own shape
    np.testing.assert_array_equal(single, batched[4])
    (listed,) = model.run([[int(xs[4, 0, 0])]])  # nested lists are accepted
    np.testing.assert_array_equal(listed, batched[4])
    (named,) = model.run({model.inputs[0].name: xs})
    np.testing.assert_array_equal(named, batched)


def test_intermediates_are_every_tensor_by_name():
    model = microforge.load(MODELS / "micro_speech_quantized.tflite")
    xs = random_inputs((1, 1960), np.int8, 16, seed=1)
    outs, tensors = model.run(xs, intermediates=True)
    graph = read_tflite(MODELS / "micro_speech_quantized.tflite")
    produced = {graph.main.tensors[i].name for op in graph.main.operators for i in op.outputs}
    assert produced <= set(tensors)
    np.testing.assert_array_equal(tensors[model.outputs[0].name], outs[0])
    assert all(a.shape[0] == 16 for a in tensors.values())


def test_interpreter_drop_in_matches_tflm():
    path = MODELS / "micro_speech_quantized.tflite"
    interp = microforge.Interpreter(model_path=str(path))
    interp.allocate_tensors()
    (inp,) = interp.get_input_details()
    (out,) = interp.get_output_details()
    assert inp["dtype"] is np.int8 and list(inp["shape"]) == [1, 1960]
    assert out["quantization"] == (pytest.approx(1 / 256), -128)
    xs = random_inputs((1, 1960), np.int8, 20, seed=5)
    expected = tflm_run(path, [[x] for x in xs])[0]
    for x, e in zip(xs, expected):
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        np.testing.assert_array_equal(interp.get_tensor(out["index"]), e)
    interp.reset_all_variables()


def test_interpreter_rejects_wrong_tensor():
    interp = microforge.Interpreter(model_path=str(MODELS / "hello_world_int8.tflite"))
    interp.allocate_tensors()
    idx = interp.get_input_details()[0]["index"]
    with pytest.raises(microforge.InputError):
        interp.set_tensor(idx, np.zeros((1, 1), np.float32))
    with pytest.raises(microforge.InputError):
        interp.invoke()


def test_save_round_trip(tmp_path):
    model = microforge.load(MODELS / "hello_world_int8.tflite")
    microforge.save(model, tmp_path / "copy.tflite")
    again = microforge.load(tmp_path / "copy.tflite")
    xs = random_inputs((1, 1), np.int8, 50, seed=9)
    np.testing.assert_array_equal(again.run(xs)[0], model.run(xs)[0])


def test_stateful_batch_change_needs_reset():
    model = microforge.load(MODELS / "keyword_scrambled.tflite")
    xs = random_inputs((1, 96), np.int16, 8, seed=2)
    model.run(xs)
    with pytest.raises(microforge.InputError, match="reset"):
        model.run(xs[:4])
    model.reset()
    model.run(xs[:4])


@pytest.mark.parametrize("name", ["person_detect.tflite", "keyword_scrambled.tflite"])
def test_threads_give_identical_results(name):
    single = microforge.load(MODELS / name, threads=1)
    multi = microforge.load(MODELS / name, threads=4)
    info = single.inputs[0]
    for step in range(3):  # stateful models: state rows stay with their samples
        xs = random_inputs(info.shape, info.dtype, 64, seed=step)
        np.testing.assert_array_equal(multi.run(xs)[0], single.run(xs)[0])


def test_source_layout_runs_in_the_models_own_layout():
    """A graph read from an NCHW framework takes and returns NCHW arrays; calibration data is
    accepted in either layout."""
    import microforge
    from microforge.ir import SourceLayout
    from tests.builders.graphs import conv_bn

    graph = conv_bn()
    reference = microforge.api.Model(conv_bn())
    graph.source = SourceLayout("ONNX", ((0, 2, 3, 1),), ((0, 2, 3, 1),))
    model = microforge.api.Model(graph)
    assert model.inputs[0].shape == (1, 4, 5, 5) and model.outputs[0].shape == (1, 4, 5, 5)
    x = np.random.default_rng(0).normal(size=(3, 5, 5, 4)).astype(np.float32)
    nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    (expected,) = reference.run(x)
    (got,) = model.run(nchw)
    np.testing.assert_array_equal(got, expected.transpose(0, 3, 1, 2))
    (one,) = model.run(nchw[:1])
    np.testing.assert_array_equal(one, expected[:1].transpose(0, 3, 1, 2))
    a = microforge.quantize(graph, nchw)
    b = microforge.quantize(conv_bn(), x)
    assert a.inputs[0].shape == (1, 5, 5, 4)  # quantized models are channels-last
    np.testing.assert_array_equal(a.graph.main.tensors[0].quant.scale,
                                  b.graph.main.tensors[0].quant.scale)
    q = np.clip(np.round(x / a.inputs[0].scale), -128, 127).astype(np.int8)
    np.testing.assert_array_equal(a.run(q)[0], b.run(q)[0])
