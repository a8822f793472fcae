"""WAV input: 16-bit PCM mono through the standard library's :mod:`wave`."""

from __future__ import annotations

import os
import wave

import numpy as np

from microforge.errors import InputError


def read_wav(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """The samples of a 16-bit PCM mono WAV file as int16, and its sample rate.

    Anything else (not a WAV file, other sample widths, more channels, compressed or float
    formats, a rate other than ``sample_rate`` when given) raises :class:`InputError` saying
    what the file holds and what is needed. Nothing is converted or resampled."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise InputError(f"{name}: no such file")
    try:
        with wave.open(name, "rb") as f:
            channels, width, rate = f.getnchannels(), f.getsampwidth(), f.getframerate()
            if width != 2:
                raise InputError(
                    f"{name}: {8 * width}-bit samples; only 16-bit PCM WAV is supported "
                    "(convert it, e.g. `sox in.wav -b 16 out.wav`)"
                )
            if channels != 1:
                raise InputError(
                    f"{name}: {channels} channels; only mono WAV is supported "
                    "(mix it down, e.g. `sox in.wav -c 1 out.wav`)"
                )
            # A header may claim 4 GB of samples: read no more frames than the file can hold (the
            # standard library would allocate the claimed size first).
            frames = f.readframes(min(f.getnframes(), os.path.getsize(name) // 2))
    except (wave.Error, EOFError, RuntimeError, ValueError, OverflowError) as exc:
        raise InputError(f"{name}: not a PCM WAV file ({exc})") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if sample_rate is not None and rate != sample_rate:
        raise InputError(
            f"{name}: sample rate {rate} Hz; the preprocessor expects {sample_rate} Hz "
            f"(resample it, e.g. `sox in.wav -r {sample_rate} out.wav`)"
        )
    samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.int16)
    return samples, rate
