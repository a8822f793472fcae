"""``microforge kws``: keywords with times from a WAV file; one-line errors with exit 2 or 1."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from tests.builders.audio import CLASSIFIER, PREPROCESSOR, clip
from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS

LABELS = "silence,unknown,yes,no"


def wav(path, samples: np.ndarray, width: int = 2, channels: int = 1, rate: int = 16000):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples.tobytes())
    return path


def kws(*args):
    return cli("kws", "--preprocessor", PREPROCESSOR["int8"], "--model", CLASSIFIER, *args)


def test_prints_yes_then_no_with_times(tmp_path):
    s = clip("silence")
    path = wav(tmp_path / "yesno.wav", np.concatenate([s, clip("yes"), s, clip("no"), s]))
    code, out, err = kws("--labels", LABELS, path)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert lines[0].split()[2] == "yes" and lines[1].split()[2] == "no"
    assert 1.0 <= float(lines[0].split()[0]) <= 2.3 and 3.0 <= float(lines[1].split()[0]) <= 4.3
    assert lines[2].startswith("2 keywords in 5.00 s of audio")


def test_scores_table(tmp_path):
    path = wav(tmp_path / "yes.wav", clip("yes"))
    code, out, err = kws("--labels", LABELS, "--scores", path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["time_ms", "silence", "unknown", "yes", "no"]
    assert lines[1].split() == ["990", "-128", "-128", "127", "-128"]  # the README's yes scores


@pytest.mark.parametrize("case,code,words", [
    ("text", 2, ["not a PCM WAV"]),
    ("8bit", 2, ["8-bit samples", "16-bit"]),
    ("stereo", 2, ["2 channels", "mono"]),
    ("rate", 2, ["sample rate 8000 Hz", "16000"]),
    ("missing", 2, ["no such file"]),
    ("labels", 2, ["3 labels", "4 classifier outputs"]),
    ("empty-label", 2, ["--labels"]),
    ("bad-model", 1, ["model"]),
    ("no-labels", 2, ["--labels"]),
])
def test_errors_are_one_line(tmp_path, case, code, words):
    path = wav(tmp_path / "ok.wav", clip("yes"))
    labels = LABELS
    pre = PREPROCESSOR["int8"]
    if case == "text":
        path = tmp_path / "x.wav"
        path.write_text("not audio")
    elif case == "8bit":
        path = wav(tmp_path / "b.wav", np.zeros(100, np.uint8), width=1)
    elif case == "stereo":
        path = wav(tmp_path / "s.wav", np.zeros(200, np.int16), channels=2)
    elif case == "rate":
        path = wav(tmp_path / "r.wav", np.zeros(200, np.int16), rate=8000)
    elif case == "missing":
        path = tmp_path / "nothing.wav"
    elif case == "labels":
        labels = "silence,yes,no"
    elif case == "empty-label":
        labels = "silence,,yes,no"
    elif case == "bad-model":
        pre = tmp_path / "junk.tflite"
        pre.write_bytes(b"\x00" * 64)
    if case == "no-labels":
        got = cli("kws", "--preprocessor", pre, "--model", CLASSIFIER, path)
    else:
        got = cli("kws", "--preprocessor", pre, "--model", CLASSIFIER, "--labels", labels, path)
    assert_one_line_error(got[0], got[2], code, *words)


def test_preprocessor_that_is_not_one(tmp_path):
    path = wav(tmp_path / "ok.wav", clip("yes"))
    got = cli("kws", "--preprocessor", MODELS / "hello_world_float.tflite", "--model", CLASSIFIER,
              "--labels", LABELS, path)
    assert_one_line_error(got[0], got[2], 1, "preprocessor", "int16")


def test_a_model_directory_supplies_its_recognizer_settings(tmp_path):
    """``kws --model DIR`` uses the averaging window and threshold ``audio train`` chose on the
    validation voices (model_card.json) unless --threshold / --average-ms are given."""
    import json
    import shutil

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(PREPROCESSOR["int8"], model / "preprocessor.tflite")
    shutil.copy(CLASSIFIER, model / "model_int8.tflite")
    (model / "labels.txt").write_text(LABELS.replace(",", "\n") + "\n")
    (model / "model_card.json").write_text(json.dumps({"recognizer": {"threshold": 255,
                                                                      "average_ms": 500}}))
    s = clip("silence")
    path = wav(tmp_path / "yesno.wav", np.concatenate([s, clip("yes"), s, clip("no"), s]))
    code, out, err = cli("kws", "--model", model, path)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("0 keywords")  # no average exceeds 255
    code, out, err = cli("kws", "--model", model, "--threshold", "200", "--average-ms", "1000", path)
    assert code == 0, err
    assert out.splitlines()[-1].startswith("2 keywords")
