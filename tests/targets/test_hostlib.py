"""The compiled host path (targets/hostlib.py): the generated C built for this machine gives the
numpy runtime's bytes through ``Model.run``, and ``auto`` switches to it only where it should."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import microforge
from microforge.errors import InputError, MicroforgeError
from microforge.targets import hostlib
from tests.builders.arrays import bits, random_inputs
from tests.oracle import MODELS

SMALL = ["hello_world_int8.tflite", "hello_world_float.tflite", "keyword_scrambled.tflite"]
ALL = SMALL + ["keyword_scrambled_8bit.tflite", "trained_lstm_int8.tflite", "trained_lstm.tflite",
               "micro_speech_quantized.tflite", "simple_add_model.tflite",
               "dtln_noise_suppression.tflite", "person_detect.tflite"]


def _inputs(model, n, seed=0):
    return [random_inputs(i.shape, i.dtype, n, seed=seed + k) for k, i in enumerate(model.inputs)]


def _same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(bits(g), bits(e))


def _check(name):
    path = MODELS / name
    numpy_only = microforge.load(path, compiled=False)
    compiled = microforge.load(path, compiled=True)
    assert compiled.compiled == "ready" and numpy_only.compiled == "off"
    if numpy_only.stateful:  # a stream of single samples, reset in the middle
        xs = _inputs(numpy_only, 40)
        for j in range(40):
            if j == 25:
                numpy_only.reset()
                compiled.reset()
            sample = [x[j] for x in xs]
            _same(compiled.run(sample), numpy_only.run(sample))
        for streams in (3, 70):  # 70 streams: split over library copies, states swapped
            numpy_only.reset()
            compiled.reset()
            for step in range(6):
                batch = _inputs(numpy_only, streams, seed=10 * step)
                _same(compiled.run(batch), numpy_only.run(batch))
        return
    xs = _inputs(numpy_only, 130)
    _same(compiled.run(xs), numpy_only.run(xs))  # 130 samples: split over library copies
    _same(compiled.run([x[:5] for x in xs]), numpy_only.run([x[:5] for x in xs]))
    for j in (0, 7, 129):  # one sample: in the tensor's shape, and as a batch of one
        _same(compiled.run([x[j] for x in xs]), numpy_only.run([x[j] for x in xs]))
        _same(compiled.run([x[j:j + 1] for x in xs]), numpy_only.run([x[j:j + 1] for x in xs]))


@pytest.mark.parametrize("name", SMALL)
def test_the_compiled_library_gives_the_runtimes_bytes(name):
    _check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL[len(SMALL):])
def test_the_compiled_library_gives_the_runtimes_bytes_on_every_shared_model(name):
    _check(name)


def test_auto_builds_after_hot_calls_and_then_serves_them():
    model = microforge.load(MODELS / "hello_world_int8.tflite", compiled=None)
    x = np.int8(5) * np.ones(model.inputs[0].shape, np.int8)
    expected = microforge.load(MODELS / "hello_world_int8.tflite", compiled=False).run(x)
    for _ in range(hostlib.HOT_CALLS - 1):
        _same(model.run(x), expected)
    assert model.compiled == "not built"
    _same(model.run(x), expected)
    assert model.wait_compiled() == "ready"
    _same(model.run(x), expected)


def test_auto_leaves_large_batches_of_a_large_model_to_numpy():
    path = MODELS / "micro_speech_quantized.tflite"
    model = microforge.load(path, compiled=None)
    xs = _inputs(model, hostlib.SMALL_BATCH + 1)
    for _ in range(hostlib.HOT_CALLS + 1):
        model.run(xs)
    assert model.compiled == "not built"


def test_a_stream_started_on_numpy_stays_there_until_reset():
    path = MODELS / "keyword_scrambled.tflite"
    model = microforge.load(path, compiled=None)
    reference = microforge.load(path, compiled=False)
    xs = _inputs(reference, hostlib.HOT_CALLS + 12)
    for j in range(len(xs[0])):  # the build starts and ends mid-stream
        sample = [x[j] for x in xs]
        _same(model.run(sample), reference.run(sample))
        if j == hostlib.HOT_CALLS:
            assert model.wait_compiled() == "ready"
    model.reset()
    reference.reset()
    for j in range(8):  # a new stream: compiled from its first call
        sample = [x[j] for x in xs]
        _same(model.run(sample), reference.run(sample))
    assert model._compiled.stream == "c"


def test_a_compiled_stream_refuses_what_it_cannot_give():
    model = microforge.load(MODELS / "keyword_scrambled.tflite", compiled=True)
    xs = _inputs(model, 2)
    model.run([x[0] for x in xs])
    with pytest.raises(InputError, match="intermediates"):
        model.run([x[0] for x in xs], intermediates=True)
    with pytest.raises(InputError, match="batch of 1"):
        model.run(xs)
    model.reset()
    model.run(xs)  # a batch after reset: a numpy stream


def test_intermediates_come_from_the_runtime():
    model = microforge.load(MODELS / "hello_world_int8.tflite", compiled=True)
    x = np.zeros(model.inputs[0].shape, np.int8)
    outs, named = model.run(x, intermediates=True)
    _same(outs, model.run(x))
    assert len(named) > 2


def test_a_model_without_c_stays_on_numpy_or_says_why():
    from microforge.ir.builder import GraphBuilder

    b = GraphBuilder()  # a float CONV_2D: no C kernel
    x = b.input("x", (1, 4, 4, 1), np.float32, None, None)
    w = b.const("w", np.ones((2, 3, 3, 1), np.float32))
    y = b.tensor("y", (1, 4, 4, 2), np.float32, None, None)
    b.op("CONV_2D", [x, w, -1], [y], padding=0, stride_w=1, stride_h=1)
    b.output(y)
    graph = b.build()
    model = microforge.Model(graph, compiled=None)
    eager = microforge.Model(graph)
    sample = np.ones((1, 4, 4, 1), np.float32)
    for _ in range(hostlib.HOT_CALLS + 1):
        model.run(sample)
    assert model.wait_compiled().startswith("unavailable: ")
    _same(model.run(sample), eager.run(sample))
    with pytest.raises(MicroforgeError, match="CONV_2D"):
        microforge.Model(graph, compiled=True)


def test_concurrent_calls_give_each_caller_its_own_result():
    model = microforge.load(MODELS / "hello_world_float.tflite", compiled=True)
    xs = np.linspace(-3, 3, 400, dtype=np.float32).reshape(400, 1, 1)
    expected = microforge.load(MODELS / "hello_world_float.tflite", compiled=False).run(xs)[0]
    got = np.zeros_like(expected)

    def worker(part):
        for j in part:
            got[j] = model.run(xs[j])[0]

    threads = [threading.Thread(target=worker, args=(range(k, 400, 4),)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(bits(got), bits(expected))


def test_the_environment_chooses_the_mode(monkeypatch):
    for value, mode in [("0", "never"), ("1", "eager"), ("auto", "auto"), ("", "auto"),
                        ("always", "always"), ("bogus", "auto")]:
        monkeypatch.setenv("MICROFORGE_COMPILED", value)
        assert hostlib.mode_of(None) == mode
    assert hostlib.mode_of(False) == "never" and hostlib.mode_of(True) == "always"


def test_large_batches_of_a_tiny_model_go_where_they_ran_faster():
    model = microforge.load(MODELS / "hello_world_int8.tflite", compiled=None)
    reference = microforge.load(MODELS / "hello_world_int8.tflite", compiled=False)
    xs = _inputs(model, 100)
    for _ in range(hostlib.HOT_CALLS):
        model.run(xs)
    assert model.wait_compiled() == "ready"
    for _ in range(4):  # compiled (warm-up, then timed), then the faster one: all the same bytes
        _same(model.run(xs), reference.run(xs))
    times = model._compiled._per_sample
    assert times["c"] is not None and times["numpy"] is not None


def test_an_unwritable_cache_leaves_the_model_on_numpy_or_says_why(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = MODELS / "hello_world_int8.tflite"
    model = microforge.load(path, compiled=None)
    x = np.zeros(model.inputs[0].shape, np.int8)
    for _ in range(hostlib.HOT_CALLS):
        model.run(x)
    assert model.wait_compiled().startswith("unavailable: building the compiled host path failed")
    _same(model.run(x), microforge.load(path, compiled=False).run(x))
    with pytest.raises(MicroforgeError, match="^building the compiled host path failed: "):
        microforge.load(path, compiled=True)
