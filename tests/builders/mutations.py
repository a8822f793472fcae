"""Byte-level mutations of model and audio files, as a hostile user makes them: truncation, byte
and bit flips, extreme values written over (probable) offset fields, zeroed regions, splices with
another file, repeated and deleted chunks. :func:`mutant` is deterministic in its seed, so a
finding is reproduced from (seed file, mutant number) alone."""

from __future__ import annotations

import struct

import numpy as np

# 32-bit values that break offset and size arithmetic: 0, -1, sign bit, 2^31 - 1, small negatives,
# just past common sizes.
EXTREMES = (0, 1, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFE, 0x7FFFFFF0, 0x10000, 0xFFFF,
            0x40000000, 0x00FFFFFF, 2, 4, 8, 0xFFFFFF80)
KINDS = ("truncate", "flip", "bitflip", "extreme", "zero", "splice", "repeat", "delete")


def _truncate(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    return buf[: int(rng.integers(0, len(buf)))]


def _flip(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    for _ in range(int(rng.integers(1, 9))):
        buf[int(rng.integers(len(buf)))] = int(rng.integers(256))
    return buf


def _bitflip(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    for _ in range(int(rng.integers(1, 5))):
        buf[int(rng.integers(len(buf)))] ^= 1 << int(rng.integers(8))
    return buf


def _extreme(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    """A 32-bit extreme at a 4-aligned position (flatbuffer offsets, sizes, shape entries and
    HDF5 addresses are aligned), sometimes as 64 bits."""
    if len(buf) < 8:
        return buf
    pos = int(rng.integers(0, (len(buf) - 8) // 4 + 1)) * 4
    value = int(EXTREMES[int(rng.integers(len(EXTREMES)))])
    if rng.random() < 0.2:
        struct.pack_into("<q", buf, pos, value if value < 2**31 else value - 2**32)
    else:
        struct.pack_into("<I", buf, pos, value)
    return buf


def _zero(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    start = int(rng.integers(len(buf)))
    n = int(rng.integers(1, 1 + min(256, len(buf) - start)))
    buf[start : start + n] = bytes(n)
    return buf


def _splice(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    other = others[int(rng.integers(len(others)))]
    cut, at = int(rng.integers(len(buf))), int(rng.integers(len(other)))
    if rng.random() < 0.5:
        return buf[:cut] + other[at:]
    n = int(rng.integers(1, 1 + min(512, len(other) - at)))
    buf[cut : cut + n] = other[at : at + n]
    return buf


def _repeat(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    start = int(rng.integers(len(buf)))
    n = int(rng.integers(1, 1 + min(64, len(buf) - start)))
    return buf[: start + n] + buf[start : start + n] * int(rng.integers(1, 4)) + buf[start + n :]


def _delete(buf: bytearray, rng: np.random.Generator, others) -> bytearray:
    start = int(rng.integers(len(buf)))
    n = int(rng.integers(1, 1 + min(64, len(buf) - start)))
    return buf[:start] + buf[start + n :]


_APPLY = {"truncate": _truncate, "flip": _flip, "bitflip": _bitflip, "extreme": _extreme,
          "zero": _zero, "splice": _splice, "repeat": _repeat, "delete": _delete}


def mutant(data: bytes, seed: int | tuple[int, ...], others: list[bytes] | None = None,
           kind: str | None = None) -> tuple[str, bytes]:
    """One mutant of ``data`` (1 to 3 stacked mutations, or exactly one of ``kind``) and the
    name of the first mutation; ``others`` feed splices (default: ``data`` itself)."""
    rng = np.random.default_rng(seed)
    buf = bytearray(data)
    kinds = [kind] if kind else [KINDS[int(rng.integers(len(KINDS)))]
                                 for _ in range(int(rng.choice([1, 1, 1, 2, 3])))]
    for k in kinds:
        if not buf:
            break
        buf = _APPLY[k](buf, rng, others or [data])
    return kinds[0], bytes(buf)
