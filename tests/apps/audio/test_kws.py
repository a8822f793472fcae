"""KeywordSpotter on a stream of the micro_speech clips, and the command recognizer."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.apps.audio import CommandRecognizer, Detection, FeatureExtractor, KeywordSpotter
from microforge.errors import InputError
from tests.builders.audio import CLASSIFIER, LABELS, PREPROCESSOR, RATE, clip, placed_words


def spotter(kind: str = "int8", **options) -> KeywordSpotter:
    return KeywordSpotter(FeatureExtractor(PREPROCESSOR[kind]), CLASSIFIER, LABELS, **options)


@pytest.mark.parametrize("kind", ["int8", "float"])
def test_stream_detects_yes_then_no_where_they_were_placed(kind):
    audio, words = placed_words()
    events = spotter(kind).detect(audio)
    assert [e.label for e in events] == ["yes", "no"], events
    for e in events:
        a, b = words[e.label]
        assert a - 300 <= e.time_ms <= b + 300, (e, (a, b))
        assert e.score > 200


def test_pushing_pieces_gives_the_same_events_and_scores():
    audio, _ = placed_words()
    kws = spotter()
    whole = kws.detect(audio)
    whole_results = kws.results
    kws.reset()
    rng = np.random.default_rng(3)
    events = []
    for piece in np.split(audio, np.sort(rng.integers(0, len(audio), size=30))):
        events += kws.push(piece)
    assert events == whole
    assert [t for t, _ in kws.results] == [t for t, _ in whole_results]
    np.testing.assert_array_equal(np.stack([s for _, s in kws.results]),
                                  np.stack([s for _, s in whole_results]))
    assert isinstance(events[0], Detection)
    label, score, time_ms = events[0]
    assert (label, score, time_ms) == tuple(events[0])


def test_window_scores_equal_the_classifier_on_the_window():
    audio, _ = placed_words()
    kws = spotter()
    kws.detect(audio)
    features = kws.features.extract(audio)
    t, scores = kws.results[40]
    frame = 40 + kws.window_frames - 1
    assert t == (frame * 320 + 480) * 1000 // RATE
    np.testing.assert_array_equal(scores, kws.classify(features[frame - 48 : frame + 1]))
    assert kws.window_frames == 49 and len(kws.results) == len(features) - 48


def test_silence_and_noise_give_no_keywords():
    kws = spotter()
    assert kws.detect(np.concatenate([clip("silence")] * 3 + [clip("noise")] * 2)) == []


def test_recognizer_averaging_threshold_and_suppression():
    rec = CommandRecognizer(["silence", "unknown", "yes", "no"], average_window_ms=1000,
                            detection_threshold=200, suppression_ms=1500, minimum_count=3)
    yes = np.array([0, 0, 255, 0])
    assert rec.process(yes, 0) == ("silence", 0, False)  # too few results
    assert rec.process(yes, 100) == ("silence", 0, False)
    assert rec.process(yes, 200) == ("silence", 0, False)  # span below a quarter window
    assert rec.process(yes, 300) == ("yes", 255, True)
    assert rec.process(yes, 400) == ("yes", 255, False)  # suppressed: same label
    no = np.array([0, 0, 0, 255])
    for t in range(500, 1400, 100):
        label, score, new = rec.process(no, t)
    assert (label, new) == ("no", True) and score > 200
    for t in range(1400, 3000, 100):
        label, score, new = rec.process(no, t)
        if new:
            assert t - 1300 > 1500  # a repeat only after the suppression time
    with pytest.raises(InputError, match="time order"):
        rec.process(no, 0)


def test_label_count_must_match_the_classifier():
    with pytest.raises(InputError, match="3 labels"):
        KeywordSpotter(FeatureExtractor(PREPROCESSOR["int8"]), CLASSIFIER, LABELS[:3])
