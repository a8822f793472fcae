"""Folder-per-class WAV sets: label order, 1 s windows, resampling, the split by speaker."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.apps.audio import FeatureExtractor
from microforge.errors import InputError
from microforge.train.dataset import (
    Clips,
    class_folders,
    features,
    load_clips,
    speaker_of,
    split,
    warmup_choice,
    windows,
)
from microforge.train.synth import write_wav
from tests.oracle import MODELS


def test_windows_pad_short_and_cut_long_clips():
    assert [len(w) for w in windows(np.ones(5000, np.int16))] == [16000]
    long = windows(np.arange(40000) % 100)
    assert [len(w) for w in long] == [16000, 16000, 16000]  # 8000 left: kept, padded
    assert [len(w) for w in windows(np.ones(35000))] == [16000, 16000]  # 3000 left: dropped


def test_load_clips_orders_labels_and_resamples(tmp_path):
    for label in ("zebra", "_unknown_", "apple", "_silence_"):
        (tmp_path / label).mkdir()
        write_wav(tmp_path / label / f"spk{label}_nohash_0.wav", np.ones(16000, np.int16) * 100)
    write_wav(tmp_path / "apple" / "x.wav", np.ones(8000, np.int16), rate=8000)  # 1 s at 8 kHz
    (tmp_path / "empty").mkdir()
    assert class_folders(tmp_path) == ["_silence_", "_unknown_", "apple", "zebra"]
    clips = load_clips(tmp_path)
    assert clips.label_names == ["silence", "unknown", "apple", "zebra"]
    assert clips.audio.shape == (5, 16000) and clips.audio.dtype == np.int16
    assert sorted(clips.labels.tolist()) == [0, 1, 2, 2, 3]
    assert "spkapple" in clips.speakers and "apple/x.wav" in clips.speakers


def test_speakers_from_manifest_or_nohash():
    assert speaker_of("on/on_00001_en+m3.wav", {"on/on_00001_en+m3.wav": "m3"}) == "m3"
    assert speaker_of("yes/0a7c2a8d_nohash_1.wav", {}) == "0a7c2a8d"
    assert speaker_of("dog/1-100032-A-0.wav", {}) == "dog/1-100032-A-0.wav"


def test_split_keeps_every_speaker_in_one_part():
    speakers = [f"s{i % 40}" for i in range(400)]
    clips = Clips(np.zeros((400, 16000), np.int16), np.zeros(400, np.int64), speakers, speakers, ["a"])
    parts = split(clips)
    assert sum(int(m.sum()) for m in parts.values()) == 400
    seen = [{s for s, m in zip(speakers, mask) if m} for mask in parts.values()]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    assert all(m.sum() > 0 for m in parts.values())


def test_not_a_data_folder(tmp_path):
    with pytest.raises(InputError, match="two class folders"):
        load_clips(tmp_path)
    with pytest.raises(InputError, match="not a directory"):
        load_clips(tmp_path / "nope")


def test_warmup_is_drawn_from_background_clips_of_the_set_never_the_clip_itself():
    labels = np.array([0, 0, 1, 2, 2, 2])
    clips = Clips(np.zeros((6, 16000), np.int16), labels, [str(i) for i in range(6)],
                  [str(i) for i in range(6)], ["_silence_", "_unknown_", "go"])
    warm = warmup_choice(clips, 3, seed=4)
    assert warm.shape == (6, 3) and set(warm.ravel()) <= {0, 1, 2}
    assert not (warm == np.arange(6)[:, None]).any()
    assert (warm == warmup_choice(clips, 3, seed=4)).all()
    assert warmup_choice(clips, 0, seed=4).shape == (6, 0)
    no_background = Clips(clips.audio, labels, clips.files, clips.speakers, ["a", "b", "c"])
    anything = warmup_choice(no_background, 2, seed=1)  # no background class: any other clip
    assert anything.max() >= 3 and not (anything == np.arange(6)[:, None]).any()


def test_features_after_warmup_are_the_stream_features_of_the_clip():
    """The front end run over the warm-up clips, then the clip: the clip's frames are those of
    one stream over all of them, not those of the clip from the initial state."""
    fx = FeatureExtractor(MODELS / "audio_preprocessor_int8.tflite")
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((3, 16000)) * rng.uniform(300, 3000, (3, 1))).astype(np.int16)
    warm = np.array([[1, 2], [2, 0], [0, 1]])
    got = features(fx, audio, warmup=warm, batch=2)
    assert got.shape == (3, 49, 40)
    for i in range(3):
        stream = fx.stream().push(np.concatenate([audio[warm[i, 0]], audio[warm[i, 1]], audio[i]]))
        assert (got[i] == stream[-49:]).all()
    assert not (got == features(fx, audio)).all()
    with pytest.raises(InputError, match="whole number"):
        features(fx, audio[:, :15000], warmup=warm)
