"""Choosing the recognizer's averaging window and threshold on a validation stream: the stream
of keywords between background clips, the scoring of detections, the choice."""

from __future__ import annotations

import numpy as np

from microforge.apps.audio import Detection
from microforge.train.dataset import Clips
from microforge.train.tune import Placed, choose, keyword_stream, loud_span, recognize, score


def test_loud_span_finds_the_word():
    x = np.zeros(16000, np.int16)
    x[3200:9600] = 8000  # whole 10 ms blocks
    x[12000:12100] = 100  # quiet: below a quarter of the peak
    assert loud_span(x) == (3200, 9600)
    assert loud_span(np.zeros(16000, np.int16)) == (0, 16000)


def clips() -> Clips:
    audio = np.zeros((6, 16000), np.int16)
    audio[3:, 8000:12000] = 10000  # the keyword clips: a word from 0.5 s to 0.75 s
    labels = np.array([0, 1, 1, 2, 2, 3])
    names = [str(i) for i in range(6)]
    return Clips(audio, labels, names, names, ["_silence_", "_unknown_", "go", "stop"])


def test_keyword_stream_puts_each_keyword_after_a_background_clip():
    audio, placed = keyword_stream(clips(), warmup=2, seed=3)
    assert audio.dtype == np.int16 and len(audio) == 16000 * (2 + 3 * 2 + 1)
    assert sorted(p.label for p in placed) == ["go", "go", "stop"]
    for k, p in enumerate(placed):  # clip k starts at 2 + 2k + 1 seconds
        assert (p.start_ms, p.end_ms) == ((3 + 2 * k) * 1000 + 500, (3 + 2 * k) * 1000 + 750)
        assert (audio[(3 + 2 * k) * 16000 + 8000: (3 + 2 * k) * 16000 + 12000] == 10000).all()
    assert keyword_stream(clips(), limit=1, seed=3)[1][0].label in ("go", "stop")
    assert (keyword_stream(clips(), seed=3)[0] == audio).all()


def test_score_counts_right_wrong_and_extra_detections():
    placed = [Placed("go", 3000, 3400), Placed("stop", 8000, 8300)]
    events = [Detection("go", 220, 3200), Detection("go", 210, 8500), Detection("stop", 230, 20000)]
    assert score(events, placed) == (1, 1, 1)
    assert score([], placed) == (0, 0, 0)


def steps(label: int, start: int, end: int, high: int, total: int = 4000) -> list[tuple[int, np.ndarray]]:
    """Results every 20 ms: label 1 ("unknown") at 230, label ``label`` at ``high`` in [start, end)."""
    out = []
    for t in range(0, total, 20):
        s = np.zeros(3, np.int64) - 128
        if start <= t < end:
            s[label] = high - 128
        else:
            s[1] = 230 - 128
        out.append((t, s.astype(np.int8)))
    return out


def test_recognize_and_choose_prefer_the_setting_that_finds_the_keyword():
    labels = ["silence", "unknown", "go"]
    results = steps(2, 1000, 1500, 240)  # "go" for only half a second
    placed = [Placed("go", 1000, 1400)]
    assert recognize(results, labels, 200, 1000) == []  # averaged over 1 s: too low
    assert [e.label for e in recognize(results, labels, 200, 250)] == ["go"]
    best = choose(results, labels, placed, average_ms=(250, 1000), thresholds=(150, 200, 230))
    assert (best["average_ms"], best["found"], best["extra"]) == (250, 1, 0)
    assert best["threshold"] == 230  # ties: the highest threshold
    assert len(best["grid"]) == 6
