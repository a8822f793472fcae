"""``microforge.audio``: the audio front end and keyword spotter (``microforge.apps.audio``)."""

from microforge.apps.audio import (
    CommandRecognizer,
    Detection,
    FeatureExtractor,
    FeatureStream,
    KeywordSpotter,
    read_wav,
    unit_scores,
)

__all__ = [
    "CommandRecognizer",
    "Detection",
    "FeatureExtractor",
    "FeatureStream",
    "KeywordSpotter",
    "read_wav",
    "unit_scores",
]
