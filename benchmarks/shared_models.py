"""The shared models the benchmarks measure (the ones microforge runs and compiles)."""

from pathlib import Path

MODELS = Path(__file__).resolve().parents[1].parent / "shared" / "models"

RUNTIME_MODELS = [
    "person_detect.tflite",
    "micro_speech_quantized.tflite",
    "hello_world_int8.tflite",
    "hello_world_float.tflite",
    "keyword_scrambled.tflite",
    "keyword_scrambled_8bit.tflite",
    "trained_lstm_int8.tflite",
    "trained_lstm.tflite",
    "dtln_noise_suppression.tflite",
    "simple_add_model.tflite",
]
AUDIO_MODELS = ["audio_preprocessor_int8.tflite", "audio_preprocessor_float.tflite"]
COMPILED_MODELS = RUNTIME_MODELS + AUDIO_MODELS
