"""Audio front end and keyword spotting: WAV input, feature extraction with a preprocessor
model (frame by frame, with state, batched over clips), and a streaming keyword spotter in the
manner of TFLM's micro_speech. See docs/audio.md."""

from microforge.apps.audio.features import FeatureExtractor, FeatureStream
from microforge.apps.audio.kws import CommandRecognizer, Detection, KeywordSpotter, unit_scores
from microforge.apps.audio.wav import read_wav

__all__ = [
    "CommandRecognizer",
    "Detection",
    "FeatureExtractor",
    "FeatureStream",
    "KeywordSpotter",
    "read_wav",
    "unit_scores",
]
