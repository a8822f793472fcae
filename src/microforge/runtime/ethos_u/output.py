"""The NPU's output stage, shared by every operation: scaling and rounding of the accumulator,
the NPU's own ``TANH``/``SIGMOID`` (``ACTIVATION`` 3/4), the zero point, the
``ACTIVATION_MIN``/``ACTIVATION_MAX`` clamp, the activation tables in SHRAM (``ACTIVATION``
16..23: 256 8-bit or 32-bit entries, or 512 interpolated entries for a 16-bit OFM) and the
saturation to the OFM type, written to the OFM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from microforge import fixedpoint as fp
from microforge.errors import ModelError
from microforge.runtime.ethos_u.featuremap import FeatureMap
from microforge.runtime.ethos_u.numerics import saturate, scale_values

if TYPE_CHECKING:
    from microforge.runtime.ethos_u.machine import Machine

TANH, SIGMOID = 3, 4  # ACTIVATION functions (0 none, 16..23 table slots)


def _s16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


def finish(m: Machine, acc: np.ndarray, scale, shift, ofm: FeatureMap, rounding: int | None = None) -> None:
    if rounding is None:
        rounding = (m.p("OFM_PRECISION") >> 14) & 0x3
    v = scale_values(acc, scale, shift, rounding)
    act = m.p("ACTIVATION")
    kind, clip = act & 0xFFF, (act >> 12) & 0xF
    lo, hi = _s16(m.p("ACTIVATION_MIN")), _s16(m.p("ACTIVATION_MAX"))
    if kind in (TANH, SIGMOID):
        v = activation_function(kind, v) + ofm.zero_point
        if ofm.size < 4:
            v = np.clip(v, lo, hi)
    else:
        v = v + ofm.zero_point
    if 16 <= kind <= 23:
        if ofm.size == 1 or clip == 3:
            v = np.clip(v, max(lo, -128), min(hi, 127))
            table = m.lut(kind - 16, 256, 4 if ofm.size == 4 else 1).astype(np.int64)
            v = _lookup(table, v + 128)
        elif ofm.size == 2:
            v = lut16(m.lut(kind - 16, 512, 4).astype(np.int64),
                      np.clip(v, max(lo, -32768), min(hi, 32767)))
        else:
            raise ModelError(f"{m.here}: a {8 * ofm.size}-bit OFM with activation table clip range "
                             f"{clip} is not defined")
    elif kind == 0:
        if ofm.size < 4:
            v = np.clip(v, lo, hi)
    elif kind not in (TANH, SIGMOID):
        raise ModelError(f"{m.here}: ACTIVATION function {kind} is not defined")
    ofm.write(m.region(ofm.region), saturate(v, ofm.dtype), "OFM", m.here)


def _lookup(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``table`` (B or 1, n) read at ``idx`` (B, ...) per sample."""
    flat = idx.reshape(idx.shape[0], -1)
    rows = np.broadcast_to(table, (idx.shape[0], table.shape[1]))
    return np.take_along_axis(rows, flat, axis=1).reshape(idx.shape)


def activation_function(kind: int, v: np.ndarray) -> np.ndarray:
    """The NPU's own ``TANH`` (3) / ``SIGMOID`` (4) of ``ACTIVATION``: the scaled value is the
    input in units of 1/(3 * 4096) (Vela scales the op's output to 1/0x3000 and fuses the function),
    and the result is Q0.15, as TFLite's int16 ``Tanh``/``Logistic`` compute from their rescaled
    input: linear interpolation in ``sigmoid_table_uint16`` (tanh read at 2x). Checked end to end
    against the runtime's int16 TANH/LOGISTIC and the LSTM models' gates."""
    v = np.clip(np.asarray(v, dtype=np.int64), -(1 << 31), (1 << 31) - 1)
    if kind == TANH:
        return fp.tanh_int16_lut(v, 1, 0).astype(np.int64)
    return fp.logistic_int16_lut(v, 1, 0).astype(np.int64)


def lut16(table: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The 16-bit activation table: 512 32-bit entries, each base (low 16 bits, signed) and slope
    (high 16 bits, signed); an int16 value ``v`` reads entry ``(v + 32768) >> 7`` and adds
    ``(slope * ((v + 32768) & 127) + 64) >> 7``, the interpolation of TFLite's int16 ``LUTLookup``
    that Vela's ``create_lut_int16_op`` builds its tables for."""
    u = np.asarray(v, dtype=np.int64) + 32768
    entry = _lookup(table, u >> 7)
    entry = ((entry & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000
    base = ((entry & 0xFFFF) ^ 0x8000) - 0x8000
    slope = (entry - base) >> 16
    return base + ((slope * (u & 0x7F) + 64) >> 7)
