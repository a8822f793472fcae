"""The micro_speech test clips and models of ../shared, and TFLM's frame-by-frame features."""

from __future__ import annotations

import numpy as np

from microforge.apps.audio import read_wav
from tests.oracle import DATA, MODELS, tflm_interpreter

CLIPS = ["yes", "no", "silence", "noise"]
LABELS = ["silence", "unknown", "yes", "no"]
CLASSIFIER = MODELS / "micro_speech_quantized.tflite"
PREPROCESSOR = {"int8": MODELS / "audio_preprocessor_int8.tflite",
                "float": MODELS / "audio_preprocessor_float.tflite"}
# ../shared/README.md: the classifier's outputs with the tflite-micro runtime
EXPECTED = {"yes": [-128, -128, 127, -128], "no": [-128, -114, -128, 114],
            "silence": [-42, -68, -68, -78], "noise": [120, -125, -126, -125]}


def clip(name: str) -> np.ndarray:
    return read_wav(DATA / "micro_speech" / f"{name}_1000ms.wav", 16000)[0]


def tflm_features(preprocessor, audio: np.ndarray) -> np.ndarray:
    """micro_speech's loop: 480-sample windows every 320 samples, state kept, reset per clip."""
    interp = tflm_interpreter(preprocessor)
    interp.reset()
    frames = []
    for start in range(0, len(audio) - 480 + 1, 320):
        interp.set_input(audio[start : start + 480].reshape(1, 480), 0)
        interp.invoke()
        frames.append(np.array(interp.get_output(0)))
    return np.stack(frames)


RATE = 16000


def word_span_ms(audio: np.ndarray) -> tuple[int, int]:
    """Where the word is in a clip: the 20 ms blocks louder than a tenth of the loudest."""
    rms = np.sqrt((audio.astype(np.float64).reshape(-1, 320) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > rms.max() / 10)
    return int(loud[0]) * 20, int(loud[-1]) * 20 + 20


def placed_words() -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """silence, yes, silence, no, silence (1 s each) and where the two words are (ms)."""
    silence = clip("silence")
    parts = [silence, clip("yes"), silence, clip("no"), silence]
    starts = np.cumsum([0] + [len(p) for p in parts])[:-1] * 1000 // RATE
    words = {}
    for name, k in (("yes", 1), ("no", 3)):
        a, b = word_span_ms(parts[k])
        words[name] = (int(starts[k]) + a, int(starts[k]) + b)
    return np.concatenate(parts), words
