"""``audio synth``: espeak-ng keyword clips, _unknown_ words and _silence_ noises, 16 kHz mono
1 s, the same files for the same seed whatever the number of processes."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from microforge.apps.audio import read_wav
from microforge.errors import InputError
from microforge.train.synth import SynthOptions, place, speak, synthesize, trim

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="needs espeak-ng (apt-get install espeak-ng, see .ci/run)")


def test_espeak_speaks_at_22050_hz():
    x = speak("stop", "en-us+m3", 150, 50, 100)
    assert 0.2 * 22050 < len(x) < 1.5 * 22050
    assert np.abs(x).max() > 0.05


def test_synth_writes_labelled_one_second_clips_deterministically(tmp_path):
    opts = dict(keywords=["go", "off"], per_keyword=6, seed=3)
    rows = synthesize(tmp_path / "a", SynthOptions(**opts, jobs=2))
    again = synthesize(tmp_path / "b", SynthOptions(**opts, jobs=1))
    assert rows == again
    assert any("(+" in r["text"] for r in rows)  # keywords with context
    labels = sorted({r["label"] for r in rows})
    assert labels == ["_silence_", "_unknown_", "go", "off"]
    assert sum(r["label"] == "_silence_" for r in rows) == 3
    for r in rows:
        a, rate = read_wav(tmp_path / "a" / r["file"])
        b, _ = read_wav(tmp_path / "b" / r["file"])
        assert rate == 16000 and a.shape == (16000,)
        np.testing.assert_array_equal(a, b)
        words = r["text"].replace("(+", "").replace(")", "").split()
        if r["label"] in ("go", "off"):  # the keyword, sometimes with other words around it
            assert words[0] == r["label"] and "+" in r["voice"] and r["voice"] in r["file"]
            assert not set(words[1:]) & {"go", "off"}
        if r["label"] == "_unknown_":  # a word, or an excerpt of a phrase of several
            assert words and not set(words) & {"go", "off"}
    with open(tmp_path / "a" / "manifest.csv") as f:
        assert [row["file"] for row in csv.DictReader(f)] == [r["file"] for r in rows]
    other = synthesize(tmp_path / "c", SynthOptions(**{**opts, "seed": 4}))
    assert [r["voice"] for r in other] != [r["voice"] for r in rows]


def test_trim_and_place():
    x = np.concatenate([np.zeros(1600), np.ones(3200), np.zeros(800)])
    assert len(trim(x)) == 3200
    y = place(np.ones(4000), np.random.default_rng(0))
    assert len(y) == 16000 and y.sum() == 4000


def test_bad_keywords_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="distinct"):
        synthesize(tmp_path, SynthOptions(keywords=["go", "go"]))
    with pytest.raises(InputError, match="reserved"):
        synthesize(tmp_path, SynthOptions(keywords=["_x"]))
