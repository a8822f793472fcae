"""The NPU operations, in numpy over the batch: convolution and depthwise (vector products are
1x1 convolutions), pooling (max, average, reduce sum) and elementwise.

Every operation ends in the common output stage (``output.py``: scaling, rounding, the NPU's
TANH/SIGMOID, zero point, clamp, activation tables, saturation). Rules inferred from Vela's
streams rather than a published definition (32-bit MUL, padded average pooling, LRELU) say so
where they are implemented; docs/ethos-u.md lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from microforge.errors import ModelError
from microforge.runtime.ethos_u.featuremap import FeatureMap
from microforge.runtime.ethos_u.numerics import TFL, scale_values
from microforge.runtime.ethos_u.output import finish
from microforge.runtime.ethos_u.weights import decode_weights, scale_entries

if TYPE_CHECKING:
    from microforge.runtime.ethos_u.machine import Machine

MUL, ADD, SUB, MIN, MAX, LRELU, ABS, CLZ, SHR, SHL = range(10)
POOL_MAX, POOL_AVERAGE, POOL_REDUCE_SUM = 0, 1, 2
_BIG = 1 << 40


def _s16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


class Geometry:
    """Kernel, strides, dilation, padding, upscaling and the OFM shape of the current op."""

    def __init__(self, m: Machine) -> None:
        ks = m.p("KERNEL_STRIDE")
        self.sx = ((ks & 1) | (((ks >> 6) & 0x7) << 1)) + 1
        self.sy = (((ks >> 1) & 1) | (((ks >> 9) & 0x7) << 1)) + 1
        self.dx, self.dy = ((ks >> 3) & 1) + 1, ((ks >> 4) & 1) + 1
        self.part_kernel = bool((ks >> 2) & 1)
        self.kh = m.p("KERNEL_HEIGHT_M1") // self.dy + 1
        self.kw = m.p("KERNEL_WIDTH_M1") // self.dx + 1
        self.pt, self.pl = m.p("IFM_PAD_TOP"), m.p("IFM_PAD_LEFT")
        self.pb, self.pr = m.p("IFM_PAD_BOTTOM"), m.p("IFM_PAD_RIGHT")
        self.upscale = m.p("IFM_UPSCALE") & 0x3
        self.oh, self.ow = m.p("OFM_HEIGHT_M1") + 1, m.p("OFM_WIDTH_M1") + 1
        self.oc = m.p("OFM_DEPTH_M1") + 1
        self.ic = m.p("IFM_DEPTH_M1") + 1
        # the IFM area the kernel reads (upscaled coordinates), padding excluded
        self.ih = (self.oh - 1) * self.sy + (self.kh - 1) * self.dy + 1 - self.pt - self.pb
        self.iw = (self.ow - 1) * self.sx + (self.kw - 1) * self.dx + 1 - self.pl - self.pr

    def windows(self, xp: np.ndarray):
        """(ky, kx, (B, oh, ow, C) view) for every kernel element of a padded IFM."""
        for ky in range(self.kh):
            for kx in range(self.kw):
                y0, x0 = ky * self.dy, kx * self.dx
                yield ky, kx, xp[:, y0:y0 + (self.oh - 1) * self.sy + 1:self.sy,
                                 x0:x0 + (self.ow - 1) * self.sx + 1:self.sx]


def read_ifm(m: Machine, g: Geometry, fm: FeatureMap, channels: int) -> np.ndarray:
    """The IFM area minus its zero point, upscaled (nearest: x2; transpose: zeros inserted)."""
    h, w = max(g.ih, 0), max(g.iw, 0)
    mem = m.region(fm.region)
    if g.upscale == 0:
        return fm.read(mem, h, w, channels, "IFM", m.here).astype(np.int64) - fm.zero_point
    x = fm.read(mem, (h + 1) // 2, (w + 1) // 2, channels, "IFM", m.here).astype(np.int64)
    x -= fm.zero_point
    if g.upscale == 1:
        return x.repeat(2, axis=1).repeat(2, axis=2)[:, :h, :w]
    if g.upscale == 2:
        up = np.zeros((x.shape[0], 2 * x.shape[1], 2 * x.shape[2], channels), dtype=np.int64)
        up[:, ::2, ::2] = x
        return up[:, :h, :w]
    raise ModelError(f"{m.here}: IFM_UPSCALE mode {g.upscale} is not defined")


def _pad(x: np.ndarray, g: Geometry, value: int) -> np.ndarray:
    return np.pad(x, ((0, 0), (g.pt, g.pb), (g.pl, g.pr), (0, 0)), constant_values=value)


def _ublocks(m: Machine) -> tuple[int, int]:
    """IFM and OFM micro-block depths (Vela's ArchitectureConfig: U55-32 has OFM depth 4)."""
    return (8, 4) if m.macs_log2 == 5 else (8, 8)


def _weights(m: Machine, g: Geometry, depthwise: bool, bits: int):
    """OHWI weights and (bias, scale, shift) of every OFM channel of the op, all cores."""
    w = np.zeros((g.oc, g.kh, g.kw, 1 if depthwise else g.ic), dtype=np.int64)
    bias = np.zeros(g.oc, dtype=np.int64)
    scale, shift = np.zeros(g.oc, dtype=np.int64), np.zeros(g.oc, dtype=np.int64)
    block = m.p("OFM_BLK_DEPTH_M1") + 1
    wreg, sreg = m.p("WEIGHT_REGION") & 0x7, m.p("SCALE_REGION") & 0x7
    for core in range(m.ncores):
        chans = np.arange(core, g.oc, m.ncores)
        if len(chans) == 0:
            continue
        tag = "" if core == 0 else "1"
        wa, wl = m.addr(f"WEIGHT{tag}_BASE"), m.data(f"WEIGHT{tag}_LENGTH")
        sa, sl = m.addr(f"SCALE{tag}_BASE"), m.data(f"SCALE{tag}_LENGTH")
        core_block = (block + m.ncores - 1 - core) // m.ncores
        wmem, smem = m.region(wreg), m.region(sreg)
        for a, n, mem, what in ((wa, wl, wmem, "weight"), (sa, sl, smem, "scale")):
            if a + n > mem.shape[1]:
                raise ModelError(f"{m.here}: the {what} stream [{a}, {a + n}) is outside region "
                                 f"{wreg if what == 'weight' else sreg} of {mem.shape[1]} bytes")
        # weights DMA'd from the flash into SRAM are the same for every sample: use row 0
        wraw, sraw = wmem[0, wa:wa + wl], smem[0, sa:sa + sl]
        key = (wraw.tobytes(), sraw.tobytes(), len(chans), g.kh, g.kw, w.shape[3], core_block,
               depthwise, g.part_kernel, bits, g.dx, g.dy)
        if key not in m.cache:
            shape = (len(chans), g.kh, g.kw, w.shape[3])
            cw = decode_weights(wraw, shape, core_block, depthwise, g.part_kernel, bits, _ublocks(m),
                                (g.dx, g.dy), m.here)
            m.cache[key] = (cw, scale_entries(sraw, len(chans), m.here))
        cw, (b, s, sh) = m.cache[key]
        w[chans], bias[chans], scale[chans], shift[chans] = cw, b, s, sh
    return w, bias, scale, shift


def convolution(m: Machine, depthwise: bool) -> None:
    g = Geometry(m)
    ifm, ofm = m.fm("IFM"), m.fm("OFM")
    if depthwise and g.ic != g.oc:
        g.ic = g.oc
    bits = 8 * ifm.size
    if bits not in (8, 16):
        raise ModelError(f"{m.here}: a {bits}-bit IFM cannot be convolved")
    w, bias, scale, shift = _weights(m, g, depthwise, bits)
    x = _pad(read_ifm(m, g, ifm, g.ic), g, 0).astype(np.float64)
    acc = np.zeros((x.shape[0], g.oh, g.ow, g.oc), dtype=np.float64)
    wf = w.astype(np.float64)
    for ky, kx, win in g.windows(x):
        if depthwise:
            acc += win * wf[:, ky, kx, 0]
        else:
            acc += win @ wf[:, ky, kx, :].T
    acc = acc.astype(np.int64) + bias
    if (m.p("OFM_PRECISION") >> 8) & 1:
        scale, shift = m.data("OFM_SCALE"), m.param1("OFM_SCALE") & 0x3F
    finish(m, acc, scale, shift, ofm)


def pooling(m: Machine, mode: int) -> None:
    g = Geometry(m)
    ifm, ofm = m.fm("IFM"), m.fm("OFM")
    channels = g.ic if mode == POOL_REDUCE_SUM else g.oc
    x = read_ifm(m, g, ifm, channels)
    if mode == POOL_MAX:
        xp = _pad(x, g, -_BIG)
        acc = None
        for _, _, win in g.windows(xp):
            acc = win.copy() if acc is None else np.maximum(acc, win)
    elif mode in (POOL_AVERAGE, POOL_REDUCE_SUM):
        xp = _pad(x, g, 0)
        acc = np.zeros((x.shape[0], g.oh, g.ow, channels), dtype=np.int64)
        for _, _, win in g.windows(xp):
            acc += win
        if mode == POOL_REDUCE_SUM:
            acc = acc.sum(axis=3, keepdims=True)
    else:
        raise ModelError(f"{m.here}: unknown pooling mode {mode}")
    padded = g.pt or g.pl or g.pb or g.pr
    if mode != POOL_AVERAGE or ((m.p("OFM_PRECISION") >> 8) & 1 and not padded):
        scale, shift = m.data("OFM_SCALE"), m.param1("OFM_SCALE") & 0x3F
    else:  # the NPU's own 1/count of the valid (unpadded) elements (Vela's quantise_pooling_scale)
        count = _valid_counts(g)
        k = np.frexp(np.maximum(count - 1, 1))[1].astype(np.int64)
        k = np.where(count == 1, 0, k)
        shift = 31 + k
        scale = ((np.int64(1) << shift) + (np.int64(1) << k)) // count
    finish(m, acc, scale, shift, ofm)


def _valid_counts(g: Geometry) -> np.ndarray:
    ones = _pad(np.ones((1, max(g.ih, 0), max(g.iw, 0), 1), dtype=np.int64), g, 0)
    acc = np.zeros((1, g.oh, g.ow, 1), dtype=np.int64)
    for _, _, win in g.windows(ones):
        acc += win
    return np.maximum(acc, 1)


def _clz32(v: np.ndarray) -> np.ndarray:
    u = (v.astype(np.int64) & 0xFFFFFFFF)
    n = np.full(u.shape, 32, dtype=np.int64)
    nz = u > 0
    n[nz] = 31 - np.floor(np.log2(u[nz].astype(np.float64))).astype(np.int64)
    # float log2 may round up just below a power of two: correct by checking the bit
    hi = np.where(nz, np.int64(1) << (31 - np.minimum(n, 31)), 1)
    n = np.where(nz & (hi > u), n + 1, n)
    return n


def elementwise(m: Machine, mode: int) -> None:
    ifm, ofm = m.fm("IFM"), m.fm("OFM")
    oh, ow, oc = m.p("OFM_HEIGHT_M1") + 1, m.p("OFM_WIDTH_M1") + 1, m.p("OFM_DEPTH_M1") + 1
    a = ifm.read(m.region(ifm.region), oh, ow, oc, "IFM", m.here).astype(np.int64) - ifm.zero_point
    binary = mode in (MUL, ADD, SUB, MIN, MAX, SHR, SHL)
    bits = 8 * ifm.size
    scale, shift = m.data("OFM_SCALE"), m.param1("OFM_SCALE") & 0x3F
    rounding = (m.p("OFM_PRECISION") >> 14) & 0x3
    if binary:
        bc = m.p("IFM2_BROADCAST")
        if (bc >> 7) & 1:
            b = np.full((1, 1, 1, 1), _s16(m.p("IFM2_SCALAR")), dtype=np.int64)
            zp2 = _s16(m.p("IFM2_ZERO_POINT"))
            b = b - zp2
        else:
            ifm2 = m.fm("IFM2")
            shape = (1 if bc & 1 else oh, 1 if bc & 2 else ow, 1 if bc & 4 else oc)
            b = ifm2.read(m.region(ifm2.region), *shape, "IFM2", m.here).astype(np.int64)
            b -= ifm2.zero_point
        if (bc >> 6) & 1:
            a, b = b, a
        a, b = np.broadcast_arrays(a, b)
        if mode in (ADD, SUB):
            a, b = _add_operands(m, a, b, bits)
            acc = a + b if mode == ADD else a - b
        elif mode == MUL:
            if bits == 32:  # the 64-bit product; only OFM_SCALE's shift applies (see _mul32)
                acc, scale, shift = _mul32(a, b, shift, rounding), 1, 0
            else:
                acc = a * b
        elif mode == MIN:
            acc = np.minimum(a, b)
        elif mode == MAX:
            acc = np.maximum(a, b)
        elif mode == SHL:
            acc = _wrap32(a << np.clip(b, 0, 31))
        else:  # SHR, rounded as OFM_PRECISION says
            n = np.clip(b, 0, 31)
            acc = scale_values(a, 1, n, rounding)
            scale, shift = 1, 0
    elif mode == ABS:
        acc = np.abs(a)
    elif mode == CLZ:
        acc = _clz32(a)
    elif mode == LRELU:  # negative values times alpha (OFM_SCALE), the others unscaled
        acc = np.where(a < 0, scale_values(a, scale, shift, rounding), a)
        scale, shift = 1, 0
    else:
        raise ModelError(f"{m.here}: unknown elementwise mode {mode}")
    finish(m, np.asarray(acc, dtype=np.int64), scale, shift, ofm, rounding)


def _wrap32(v: np.ndarray) -> np.ndarray:
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _mul32(a: np.ndarray, b: np.ndarray, shift: int, rounding: int) -> np.ndarray:
    """A MUL of 32-bit operands: the exact 64-bit product divided by ``2**shift`` in the rounding
    mode, ``OFM_SCALE``'s 32-bit multiplier not applied (taken as 1). Inferred, not published: it
    is the one rule consistent with every 32-bit MUL Vela 5.2 emits and TFLite's results -- the
    int8 softmax's Newton-Raphson steps (multiplier 2**30, shift 31: gemmlowp's
    SaturatingRoundingDoublingHighMul; shift 30: twice that; (1, 0): the plain product), the int16
    softmax's input rescale (multiplier 1759191808, shift 28, the constant operand being that same
    multiplier: TFLite's MultiplyByQuantizedMultiplier) and MEAN's (1, 34) into an int8 OFM."""
    prod = a.astype(object) * b
    out = scale_values(prod, 1, shift, rounding)
    return np.clip(out, -(1 << 62), 1 << 62).astype(np.int64)


def _add_operands(m: Machine, a: np.ndarray, b: np.ndarray, bits: int):
    """ADD/SUB operand scaling (IFM_PRECISION bits 8-9): 16-bit scales on both operands, or a
    32-bit scale on one of them with TFLite's input left shift (20 for 8-bit, 15 for 16-bit)."""
    mode = (m.p("IFM_PRECISION") >> 8) & 0x3
    if mode == 0:
        return a * m.data("OPA_SCALE"), b * m.data("OPB_SCALE")
    left = 20 if bits == 8 else 15
    sa, sha = m.data("OPA_SCALE"), m.param1("OPA_SCALE") & 0x3F
    if mode == 1:
        return scale_values(a << left, sa, sha + left, TFL), b << (left - 1)
    return a << (left - 1), scale_values(b << left, sa, sha + left, TFL)
