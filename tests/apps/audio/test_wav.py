"""WAV input: 16-bit PCM mono only, everything else one clear InputError."""

from __future__ import annotations

import struct
import tracemalloc
import wave

import numpy as np
import pytest

from microforge.apps.audio import read_wav
from microforge.errors import InputError
from tests.oracle import DATA


def write(path, samples: bytes, width: int = 2, channels: int = 1, rate: int = 16000) -> str:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples)
    return str(path)


def test_reads_the_micro_speech_clip():
    x, rate = read_wav(DATA / "micro_speech" / "yes_1000ms.wav", 16000)
    assert rate == 16000 and x.dtype == np.int16 and x.shape == (16000,)


def test_round_trip(tmp_path):
    data = np.array([0, 1, -1, 32767, -32768, 1234], np.int16)
    x, rate = read_wav(write(tmp_path / "a.wav", data.tobytes(), rate=8000))
    np.testing.assert_array_equal(x, data)
    assert rate == 8000


@pytest.mark.parametrize("kind,match", [
    ("text", "not a PCM WAV"),
    ("8bit", "8-bit samples"),
    ("24bit", "24-bit samples"),
    ("stereo", "2 channels"),
    ("rate", "sample rate 8000 Hz; the preprocessor expects 16000 Hz"),
    ("float", "not a PCM WAV"),
    ("missing", "no such file"),
])
def test_bad_files(tmp_path, kind, match):
    path = tmp_path / "x.wav"
    if kind == "text":
        path.write_text("hello, not audio\n")
    elif kind == "8bit":
        write(path, bytes(100), width=1)
    elif kind == "24bit":
        write(path, bytes(300), width=3)
    elif kind == "stereo":
        write(path, bytes(400), channels=2)
    elif kind == "rate":
        write(path, bytes(400), rate=8000)
    elif kind == "float":  # WAVE_FORMAT_IEEE_FLOAT (3): a header the wave module refuses
        body = np.zeros(10, np.float32).tobytes()
        fmt = (b"fmt " + (16).to_bytes(4, "little") + (3).to_bytes(2, "little")
               + (1).to_bytes(2, "little") + (16000).to_bytes(4, "little")
               + (64000).to_bytes(4, "little") + (4).to_bytes(2, "little")
               + (32).to_bytes(2, "little"))
        chunk = b"WAVE" + fmt + b"data" + len(body).to_bytes(4, "little") + body
        path.write_bytes(b"RIFF" + len(chunk).to_bytes(4, "little") + chunk)
    with pytest.raises(InputError, match=match) as info:
        read_wav(path, 16000)
    assert "\n" not in str(info.value)


def test_a_header_claiming_4_gb_of_samples_allocates_nothing_that_size(tmp_path):
    """The data chunk's size field says 0xFFFFFFF0 bytes; the file holds 100 samples. Python's
    ``wave`` would allocate the claimed size before reading (a MemoryError under a memory
    limit): the samples that are there are read, nothing more is allocated."""
    path = tmp_path / "huge.wav"
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVEfmt " + fmt + b"data"
                     + struct.pack("<I", 0xFFFFFFF0) + np.arange(100, dtype="<i2").tobytes())
    tracemalloc.start()
    try:
        x, rate = read_wav(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    np.testing.assert_array_equal(x, np.arange(100))
