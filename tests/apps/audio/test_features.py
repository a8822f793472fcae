"""FeatureExtractor against tflite-micro on the micro_speech clips, and the classifier on them."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.apps.audio import FeatureExtractor
from microforge.errors import InputError, ModelError
from tests.builders.arrays import bits
from tests.builders.audio import CLASSIFIER, CLIPS, EXPECTED, PREPROCESSOR, clip, tflm_features
from tests.oracle import MODELS, tflm_run, tflm_runtime


@pytest.mark.parametrize("kind", ["int8", "float"])
def test_clip_features_equal_tflm(kind):
    tflm_runtime()
    fx = FeatureExtractor(PREPROCESSOR[kind])
    audio = np.stack([clip(c) for c in CLIPS])
    batched = fx.extract(audio)
    assert batched.shape == (4, 49, 40)
    assert batched.dtype == (np.int8 if kind == "int8" else np.float32)
    for row, name in zip(batched, CLIPS):
        ref = tflm_features(PREPROCESSOR[kind], clip(name))
        np.testing.assert_array_equal(bits(row), bits(ref))  # every byte
        np.testing.assert_array_equal(bits(fx.extract(clip(name))), bits(ref))  # alone


def test_classifier_on_clip_features_gives_the_readme_values():
    tflm_runtime()
    fx = FeatureExtractor(PREPROCESSOR["int8"])
    features = fx.extract(np.stack([clip(c) for c in CLIPS])).reshape(4, 1, 1960)
    scores = microforge.load(CLASSIFIER).run(features)[0].reshape(4, 4)
    for name, row in zip(CLIPS, scores):
        assert row.tolist() == EXPECTED[name], name
    ref = tflm_run(CLASSIFIER, [[f] for f in features])[0].reshape(4, 4)
    np.testing.assert_array_equal(scores, ref)


def test_stream_in_random_pieces_equals_whole_clips():
    fx = FeatureExtractor(PREPROCESSOR["int8"])
    audio = np.concatenate([clip(c) for c in CLIPS])
    whole = fx.extract(audio)
    stream = fx.stream()
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.integers(0, len(audio), size=40))
    pieces = [stream.push(p) for p in np.split(audio, cuts)]
    assert sum(len(p) for p in pieces) == len(whole) == stream.frames == fx.num_frames(len(audio))
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    stream.reset()
    np.testing.assert_array_equal(stream.push(audio[:16000]), whole[:49])


def test_batched_streams_advance_together():
    fx = FeatureExtractor(PREPROCESSOR["int8"])
    audio = np.stack([clip(c) for c in CLIPS])
    stream = fx.stream()
    got = np.concatenate([stream.push(audio[:, :5000]), stream.push(audio[:, 5000:])], axis=1)
    np.testing.assert_array_equal(got, fx.extract(audio))
    with pytest.raises(InputError, match="reset"):
        stream.push(audio[:2, :100])


def test_frames_and_timing():
    fx = FeatureExtractor(PREPROCESSOR["int8"])
    assert (fx.window, fx.stride, fx.num_features) == (480, 320, 40)
    assert (fx.window_ms, fx.stride_ms) == (30.0, 20.0)
    assert [fx.num_frames(n) for n in (0, 479, 480, 799, 800, 16000)] == [0, 0, 1, 1, 2, 49]
    assert fx.extract(np.zeros(100, np.int16)).shape == (0, 40)


def test_bad_audio_and_models():
    fx = FeatureExtractor(PREPROCESSOR["int8"])
    with pytest.raises(InputError, match="int16"):
        fx.extract(np.zeros(1000, np.float32))
    with pytest.raises(InputError, match="different lengths"):
        fx.extract([np.zeros(1000, np.int16), np.zeros(900, np.int16)])
    with pytest.raises(InputError, match="whole number"):
        FeatureExtractor(PREPROCESSOR["int8"], sample_rate=16000, stride_ms=20.03)
    with pytest.raises(ModelError, match="int16"):
        FeatureExtractor(MODELS / "hello_world_float.tflite")
