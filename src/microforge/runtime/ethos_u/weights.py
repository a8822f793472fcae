"""Vela's encoded weights and per-channel scale entries, decoded.

Scale/bias entries (``SCALE_BASE``/``SCALE_LENGTH``, and ``SCALE1_*`` for a second core): 10
bytes per output channel, as Vela's ``encode_bias`` packs them: a signed 40-bit bias (bytes 0-4,
little endian), an unsigned 32-bit scale (bytes 5-8) and a 6-bit shift (byte 9, bits 0-5).

Weights (``WEIGHT_BASE``/``WEIGHT_LENGTH``, ``WEIGHT1_*``): one stream per core, compressed with
Vela's weight codec and decoded with Vela's own decoder (``ethosu.mlw_codec.decode``). The decoded
values (weights minus their zero point) come in the NPU's block order: OFM-depth blocks of
``OFM_BLK_DEPTH`` channels (per core: the core's share), sub-kernels of at most 8x8 (divided by the
dilation), IFM-depth blocks, micro-blocks, depth-first or part-kernel-first (``KERNEL_STRIDE`` bit
2). That order is Vela's: the emulator asks Vela's own ``reorder_encode`` where each weight lands,
by encoding weight *indices* (in base-255 digits, one pass per digit) for the same shape and
settings and decoding them again, and inverts the permutation. A core's channels are the op's
channels ``core::ncores`` (Vela's ``core_deinterleave``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from microforge.errors import ModelError, ToolError
from microforge.runtime.ethos_u.stream import MISSING_VELA


def _codec():
    try:
        from ethosu import mlw_codec
    except ImportError:
        raise ToolError(MISSING_VELA) from None
    return mlw_codec


def scale_entries(raw: np.ndarray, channels: int, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bias int64, scale int64, shift int64) of ``channels`` 10-byte entries."""
    if raw.size < 10 * channels:
        raise ModelError(f"{where}: the scale stream holds {raw.size} bytes, {channels} channels "
                         f"need {10 * channels}")
    e = raw[:10 * channels].astype(np.int64).reshape(channels, 10)
    bias = sum(e[:, k] << (8 * k) for k in range(5))
    bias = np.where(bias >= 1 << 39, bias - (1 << 40), bias)
    scale = sum(e[:, 5 + k] << (8 * k) for k in range(4))
    return bias, scale, e[:, 9] & 0x3F


@lru_cache(maxsize=256)
def _order(shape: tuple[int, int, int, int], block_depth: int, depthwise: bool, part_kernel: bool,
           bits: int, ublocks: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    """Position in the decoded stream -> index into the OHWI volume (-1: padding)."""
    codec = _codec()
    n = int(np.prod(shape))
    idx = np.arange(n, dtype=np.int64)
    out, valid, base = None, None, 1
    while True:
        digit = (idx // base) % 255 + 1
        enc, _ = codec.reorder_encode(ublocks[0], ublocks[1], digit.reshape(shape).astype(np.int16),
                                      block_depth, depthwise, part_kernel, bits,
                                      8 // dilation[1], 8 // dilation[0])
        dec = np.asarray(codec.decode(bytearray(enc)), dtype=np.int64)
        if out is None:
            valid = dec != 0
            out = np.zeros(len(dec), dtype=np.int64)
        out += np.where(valid, dec - 1, 0) * base
        base *= 255
        if base >= n:
            break
    order = np.where(valid, out, -1)
    order.flags.writeable = False
    return order


def decode_weights(raw: np.ndarray, shape: tuple[int, int, int, int], block_depth: int,
                   depthwise: bool, part_kernel: bool, bits: int, ublocks: tuple[int, int],
                   dilation: tuple[int, int], where: str) -> np.ndarray:
    """The OHWI int64 weight volume of one core's stream."""
    try:
        dec = np.asarray(_codec().decode(bytearray(raw.tobytes())), dtype=np.int64)
    except Exception as e:  # the codec raises ValueError/RuntimeError on a corrupt stream
        raise ModelError(f"{where}: Vela's decoder rejects the weight stream ({e})") from None
    order = _order(shape, max(1, block_depth), depthwise, part_kernel, bits, ublocks, dilation)
    if len(dec) < len(order):
        raise ModelError(f"{where}: the weight stream decodes to {len(dec)} values, the "
                         f"{'x'.join(map(str, shape))} kernel needs {len(order)}")
    w = np.zeros(int(np.prod(shape)), dtype=np.int64)
    keep = order >= 0
    w[order[keep]] = dec[:len(order)][keep]
    return w.reshape(shape)
