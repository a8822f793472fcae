"""Training windows cut from a keyword clip between other clips at a random shift that keeps the
word inside, with the features of the whole strip (after a warm-up)."""

from __future__ import annotations

import numpy as np

from microforge.apps.audio import FeatureExtractor
from microforge.train.augment import context_windows, shift_range
from microforge.train.dataset import Clips
from tests.oracle import MODELS


def test_shift_range_keeps_the_word_in_the_window():
    assert shift_range((3200, 9600), 16000, 320, 50) == (-20, 10)  # 6400 samples left after the word
    assert shift_range((0, 16000), 16000, 320, 50) == (0, 0)
    assert shift_range((100, 200), 16000, 320, 5) == (-5, 0)


def test_context_windows_are_frames_of_the_strip_around_the_keyword():
    fx = FeatureExtractor(MODELS / "audio_preprocessor_int8.tflite")
    rng = np.random.default_rng(2)
    audio = (rng.standard_normal((5, 16000)) * 200).astype(np.int16)
    audio[3:, 6400:9600] *= 20  # the keyword clips: a loud word from 0.4 s to 0.6 s
    labels = np.array([0, 1, 1, 2, 3])
    names = [str(i) for i in range(5)]
    clips = Clips(audio, labels, names, names, ["_silence_", "_unknown_", "go", "stop"])
    feats, y = context_windows(fx, clips, 6, seed=1, warmup=1, batch=4)
    assert feats.shape == (6, 49, 40) and feats.dtype == np.int8
    assert set(y) <= {2, 3}
    # every window is 49 consecutive frames of one stream over background, background, keyword,
    # background clips
    strips = [np.concatenate([audio[a], audio[b], audio[k], audio[c]])
              for a in range(3) for b in range(3) for k in (3, 4) for c in range(3)]
    for f, label in zip(feats, y):
        found = False
        for s in strips:
            if label != (2 if (s[32000:48000] == audio[3]).all() else 3):
                continue
            stream = fx.stream().push(s)
            for first in range(50, 151):
                if (stream[first: first + 49] == f).all():
                    assert 80 <= first <= 120  # shifted by -20..20 strides from the clip (frame 100)
                    found = True
                    break
            if found:
                break
        assert found
    none = Clips(audio[3:], np.array([0, 1]), names[3:], names[3:], ["go", "stop"])  # no background
    assert context_windows(fx, none, 4, seed=1)[0].shape == (0, 49, 40)
