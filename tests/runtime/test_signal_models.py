"""The audio preprocessor models: every operator extracted as a one-operator model (custom
operators keep their FlexBuffers options through ``write_tflite``) against tflite-micro over
200-frame random streams with state, and whole-model streams of random audio."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import extract_operator
from microforge.runtime import interpreter
from tests.builders.arrays import uniform
from tests.oracle import MODELS
from tests.runtime._signal import assert_stream_parity

ROWS, STEPS = 3, 200
PREPROCESSORS = ["audio_preprocessor_int8.tflite", "audio_preprocessor_float.tflite"]


def _operators(name: str) -> list[tuple[str, int]]:
    graph = read_tflite(MODELS / name)
    return [(name, i) for i in range(len(graph.main.operators))]


def _op_streams(graph, seed: int) -> list[np.ndarray]:
    """Random streams for the graph inputs of a one-operator model. The shift input of
    SignalFilterBankSquareRoot gets 0..15 (what SignalFftAutoScale produces)."""
    rng = np.random.default_rng(seed)
    sg = graph.main
    op = sg.operators[0]
    streams = []
    for idx in sg.inputs:
        t = sg.tensors[idx]
        if op.opcode == "SignalFilterBankSquareRoot" and idx == op.inputs[1]:
            streams.append(rng.integers(0, 16, size=(ROWS, STEPS) + t.shape).astype(t.dtype))
        else:
            x = uniform(rng, (ROWS, STEPS) + t.shape, t.dtype)
            if t.dtype.kind in "iu" and t.dtype.itemsize >= 2:
                # quiet and loud frames alike
                x >>= rng.integers(0, 8 * t.dtype.itemsize - 1,
                                   size=(ROWS, STEPS) + (1,) * len(t.shape)).astype(t.dtype)
            streams.append(x)
    return streams


@pytest.mark.parametrize("name,index", _operators(PREPROCESSORS[0]) + _operators(PREPROCESSORS[1]))
def test_extracted_operator_streams(name, index):
    graph = read_tflite(MODELS / name)
    op = graph.main.operators[index]
    single = extract_operator(graph, index)
    data = write_tflite(single)
    again = read_tflite(data).main.operators[0]
    assert again.custom == op.custom and again.custom_options == op.custom_options
    select = None
    if op.opcode == "SignalEnergy":
        from flatbuffers import flexbuffers

        opts = flexbuffers.Loads(op.custom_options)
        select = lambda outs: [o[..., opts["start_index"]:opts["end_index"]] for o in outs]  # noqa: E731
    assert_stream_parity(data, _op_streams(single, index), reset_at=STEPS // 2, select=select)


def _audio(seed: int, frames: int) -> np.ndarray:
    """(ROWS, frames, 1, 480) int16 frames of random audio: noise of varying loudness, tones,
    silence, clipping."""
    rng = np.random.default_rng(seed)
    n = 480 + 320 * (frames - 1)
    t = np.arange(n)
    loud = np.repeat(rng.uniform(0, 1, size=(ROWS, n // 3200 + 1)), 3200, axis=1)[:, :n]
    wave = rng.normal(0, 3000, size=(ROWS, n)) * loud
    wave += 8000 * np.sin(2 * np.pi * rng.uniform(100, 4000, size=(ROWS, 1)) * t / 16000)
    wave[0, : n // 4] = 0
    wave[1, n // 2 : n // 2 + 2000] *= 50
    pcm = np.clip(wave, -32768, 32767).astype(np.int16)
    idx = np.arange(frames)[:, None] * 320 + np.arange(480)
    return pcm[:, idx].reshape(ROWS, frames, 1, 480)


@pytest.mark.parametrize("name", PREPROCESSORS)
def test_whole_preprocessor_streams(name):
    data = (MODELS / name).read_bytes()
    got = assert_stream_parity(data, [_audio(11, STEPS)], reset_at=150)[0]
    assert len(np.unique(got)) > 50


def test_operator_state_across_chunks(monkeypatch):
    """A batch split into chunks keeps each row's signal-op state in its own row."""
    data = (MODELS / PREPROCESSORS[0]).read_bytes()
    frames = np.concatenate([_audio(3, 12), _audio(4, 12), _audio(5, 12)])  # 9 streams
    whole = microforge.load(data)
    expected = np.stack([whole.run(frames[:, t])[0] for t in range(12)], 1)
    monkeypatch.setattr(interpreter, "CHUNK_BYTES", 4096)
    chunked = microforge.load(data)
    assert chunked._executor._chunk_size() < 9
    got = np.stack([chunked.run(frames[:, t])[0] for t in range(12)], 1)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", PREPROCESSORS + ["keyword_scrambled.tflite"])
def test_run_sequence_equals_step_by_step(name, monkeypatch):
    """``Executor.run_sequence`` (operator by operator over all steps, time cut in chunks) gives
    what T calls of ``run`` give, state included; models with variable tensors fall back."""
    from microforge.runtime.interpreter import Executor

    graph = read_tflite(MODELS / name)
    info = graph.main.tensors[graph.main.inputs[0]]
    rng = np.random.default_rng(1)
    xs = uniform(rng, (4, 30) + info.shape, info.dtype)
    step = Executor(graph)
    expected = np.stack([step.run([xs[:, t]])[0][0] for t in range(30)], axis=1)
    monkeypatch.setattr(interpreter, "CHUNK_BYTES", 40_000)  # several time chunks
    seq = Executor(graph)
    got = seq.run_sequence([xs[:, :17]])[0]
    got = np.concatenate([got, seq.run_sequence([xs[:, 17:]])[0]], axis=1)
    np.testing.assert_array_equal(got, expected)
