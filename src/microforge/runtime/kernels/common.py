"""Helpers shared by kernels: fused activation ranges and padding arithmetic, as TFLM computes them."""

from __future__ import annotations

import math
import threading

import numpy as np

from microforge import fixedpoint as fp
from microforge.ir import Activation, Padding, Tensor
from microforge.limits import check_workspace
from microforge.runtime import native


def activation_range_quantized(activation: int, output: Tensor) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized``: the clamp range of a fused activation in the output's
    integer domain. Reproduces TFLM's float32 ``f / scale`` followed by ``std::round``."""
    info = np.iinfo(output.dtype)
    qmin, qmax = int(info.min), int(info.max)
    scale = np.float32(output.scale)
    zp = output.zero_point

    def quantize(f: float) -> int:
        return zp + fp.round_half_away(np.float32(f) / scale)

    if activation == Activation.NONE:
        return qmin, qmax
    if activation == Activation.RELU:
        return max(qmin, quantize(0.0)), qmax
    if activation == Activation.RELU6:
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == Activation.RELU_N1_TO_1:
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    raise ValueError(f"fused activation {activation} is not supported on quantized tensors")


def activation_range_float(activation: int) -> tuple[float, float]:
    """``CalculateActivationRange<float>``."""
    inf = float(np.finfo(np.float32).max)
    if activation == Activation.NONE:
        return -inf, inf
    if activation == Activation.RELU:
        return 0.0, inf
    if activation == Activation.RELU6:
        return 0.0, 6.0
    if activation == Activation.RELU_N1_TO_1:
        return -1.0, 1.0
    raise ValueError(f"fused activation {activation} is not supported")


_WORKSPACE = threading.local()


def workspace(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A reusable per-thread buffer of ``shape`` and ``dtype`` (contents undefined), valid until
    the next request of the same ``name`` in the same thread. Kernels use it for block-sized
    temporaries: no allocation (and no fresh, page-faulting memory) per block, and the memory
    is still in cache from the previous block or operator. Never return one as a result."""
    views = _WORKSPACE.__dict__.setdefault("views", {})
    key = (name, shape, dtype)
    view = views.get(key)
    if view is not None:
        return view
    if len(views) > 512:  # many shapes seen (batch sizes vary): forget the views, keep buffers
        views.clear()
    dtype = np.dtype(dtype)
    check_workspace(shape, dtype.itemsize, f"a kernel's {name} buffer")
    size = math.prod(shape) * dtype.itemsize
    buffers = _WORKSPACE.__dict__.setdefault("buffers", {})
    buf = buffers.get(name)
    if buf is None or buf.size < size:
        buf = buffers[name] = np.empty(max(size, 64), np.uint8)
        for stale in [k for k in views if k[0] == name]:
            del views[stale]
    view = views[key] = buf[:size].view(dtype).reshape(shape)
    return view


def strided(base: np.ndarray, shape: tuple[int, ...], strides: tuple[int, ...],
            offset: int = 0) -> np.ndarray:
    """A view of the C-contiguous ``base`` with ``shape``, ``strides`` and ``offset`` counted in
    elements (``as_strided`` without its per-call overhead; the caller keeps it in bounds)."""
    item = base.itemsize
    return np.ndarray(shape, base.dtype, base, offset * item, tuple(s * item for s in strides))


def compute_padding(
    padding: int, in_size: int, filter_size: int, stride: int, dilation: int = 1
) -> tuple[int, int]:
    """``ComputePaddingHeightWidth`` for one axis: (output size, padding before)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == Padding.SAME:
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size - effective + stride) // stride
    total = max((out - 1) * stride + effective - in_size, 0)
    return out, total // 2


# --- float32 transcendental functions as TFLM's host build computes them -------------------------
#
# TFLM's float kernels call std::exp / std::tanh on float, i.e. the C library's expf / tanhf. The
# tflite-micro wheel links glibc's libm, so these reproduce glibc's results bit for bit:
# * tanhf / expm1f: glibc's single-precision algorithms (fdlibm lineage), replayed step by step in
#   float32 arithmetic (every numpy float32 operation rounds like the C float operation).
# * expf: glibc's expf is within 0.502 ulp (its error before the final rounding is below 0.002
#   ulp), so it equals the correctly rounded exp except when exp(x) lies within that distance of
#   a rounding midpoint. Those rare inputs (about 1 in 100) are passed to the C library itself
#   through ctypes; without a loadable libm they keep the correctly rounded value.

_F = np.float32


def _f32_bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.int32)


def _f32_from_bits(bits: np.ndarray) -> np.ndarray:
    return np.asarray(bits, dtype=np.int32).view(np.float32)


def _load_libm_expf():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("m")
    if name is None:
        return None
    try:
        fn = ctypes.CDLL(name).expf
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return fn


_LIBM_EXPF = _load_libm_expf()


def expf(x: np.ndarray) -> np.ndarray:
    """glibc ``expf`` on a float32 array (see the note above)."""
    x = np.asarray(x, dtype=_F)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        exact = np.exp(x.astype(np.float64))
        out = exact.astype(_F)
        other = np.nextafter(out, np.where(exact > out, _F(np.inf), _F(-np.inf)))
        lo, hi = out.astype(np.float64), other.astype(np.float64)
        hard = np.isfinite(exact) & (np.abs(exact - (lo + hi) * 0.5) < 0.005 * np.abs(hi - lo))
    if _LIBM_EXPF is not None and hard.any():
        out[hard] = [_LIBM_EXPF(float(v)) for v in x[hard]]
    return out


def expm1f(x: np.ndarray) -> np.ndarray:
    """glibc ``expm1f`` on a float32 array: argument reduction by k*ln2, a rational approximation
    of the reduced argument, then k folded into the exponent, branch by branch as in the C.

    The C reduces 0.5ln2 < |x| < 1.5ln2 with k = +-1 and larger |x| with k = trunc(x/ln2 +- 0.5);
    both are ``hi = x - k*ln2_hi, lo = k*ln2_lo`` (exact for k = +-1), and k = 0 leaves x as is,
    so the reduction is computed once for all elements."""
    x = np.asarray(x, dtype=_F)
    word = _f32_bits(x)
    mag = word & 0x7FFFFFFF
    neg = word < 0
    one, half = _F(1), _F(0.5)
    q1, q2, q3, q4, q5 = (_F(-3.3333335072e-02), _F(1.5873016091e-03), _F(-7.9365076090e-05),
                          _F(4.0082177293e-06), _F(-2.0109921195e-07))
    with np.errstate(all="ignore"):
        k = np.trunc(_F(1.4426950216) * x + np.where(neg, -half, half))
        k = np.where(mag >= 0x3F851592, k, np.where(neg, _F(-1), one))  # |x| >= 1.5 ln2
        k = np.where(mag > 0x3EB17218, k, _F(0)).astype(np.int32)  # |x| > 0.5 ln2
        kf = k.astype(_F)
        hi = x - kf * _F(6.9313812256e-01)
        lo = kf * _F(9.0580006145e-06)
        r = hi - lo
        c = (hi - r) - lo
        hfx = half * r
        hxs = r * hfx
        r1 = one + hxs * (q1 + hxs * (q2 + hxs * (q3 + hxs * (q4 + hxs * q5))))
        t = _F(3) - r1 * hfx
        e = hxs * ((r1 - t) / (_F(6) - r * t))
        out = r - (r * e - hxs)  # k == 0
        e = (r * (e - c) - c) - hxs
        if (k != 0).any():
            # |k| >= 2: y = T - (e - r) with T = 1 - 2**-k for 2 <= k < 23 and 1 otherwise, or
            # y = (r - (e + 2**-k)) + 1 for 23 <= k <= 56; then k is added to y's exponent.
            extreme = (k <= -2) | (k > 56)
            small = ~extreme & (k < 23)
            kk = np.clip(k, 0, 31)
            top = np.where(small, _f32_from_bits(0x3F800000 - (0x1000000 >> kk)), one)
            y = np.where(extreme | small, top - (e - r),
                         (r - (e + _f32_from_bits((0x7F - k) << 23))) + one)
            y = _f32_from_bits(_f32_bits(y) + (k << 23))
            far = np.where(extreme, y - one, y)
            plus1 = np.where(r < _F(-0.25), _F(-2) * (e - (r + half)), one + _F(2) * (r - e))
            minus1 = half * (r - e) - half
            out = np.where(k == 0, out, np.where(k == 1, plus1, np.where(k == -1, minus1, far)))
        out = np.where(mag < 0x33000000, x, out)  # |x| < 2**-25: x itself
        out = np.where((mag >= 0x4195B844) & neg, -one, out)  # x <= -27 ln2: -1
        special = mag >= 0x42B17218
        if special.any():
            nan_or_inf = np.where(mag > 0x7F800000, x + x, np.where(neg, -one, x))
            overflow = np.where(x > _F(8.8721679688e01), _F(np.inf), out)
            out = np.where(special, np.where(mag >= 0x7F800000, nan_or_inf, overflow), out)
    return out.astype(_F)


def tanhf(x: np.ndarray) -> np.ndarray:
    """glibc ``tanhf`` on a float32 array (through expm1f of 2|x| or -2|x|)."""
    x = np.asarray(x, dtype=_F)
    word = _f32_bits(x)
    mag = word & 0x7FFFFFFF
    one, two = _F(1), _F(2)
    with np.errstate(all="ignore"):
        ge1 = mag >= 0x3F800000
        a = np.abs(x)
        t = expm1f(np.where(ge1, a + a, -(a + a)))
        z = np.where(ge1, one - two / (t + two), -t / (t + two))
        z = np.where(mag >= 0x41B00000, one, z)  # |x| >= 22
        z = np.where(word >= 0, z, -z)
        z = np.where(mag < 0x24000000, x * (one + x), z)  # |x| < 2**-55
        if (mag >= 0x7F800000).any():
            z = np.where(mag >= 0x7F800000, np.where(word >= 0, one / x + one, one / x - one), z)
    return z.astype(_F)


def float_logistic(x: np.ndarray) -> np.ndarray:
    """``reference_ops::Logistic`` for float: 1 above 16.619047, expf(x) below -9, else
    1 / (1 + expf(-x)), in float32."""
    x = np.asarray(x, dtype=_F)
    low = x < _F(-9)
    e = expf(np.where(low, x, -x))
    with np.errstate(over="ignore"):
        out = np.where(low, e, _F(1) / (_F(1) + e))
    return np.where(x > _F(16.619047164916992188), _F(1), out).astype(_F)


class Requantizer:
    """TFLM's integer output stage, ``clamp(MultiplyByQuantizedMultiplier(acc + bias, q[c], shift[c])
    + zero_point, act_min, act_max)`` per channel (last axis), for accumulators whose values are
    integers held exactly in a float32/float64 (or int64) array.

    The exact stage is a non-decreasing step function of the accumulator with at most
    ``act_max - act_min`` steps. The constructor finds every step's integer threshold with the
    reference fixed-point code (``fixedpoint.py``), then looks for a per-channel float affine map
    ``y = fl(fl(acc * m) + b)`` whose floor, clamped, equals ``output - origin`` at every threshold:
    float32 with ``origin = act_min`` (y >= 0, floored by the unsigned cast), float32 centred on
    zero (one more floor pass, one more bit of precision), then float64. In float32, ``m`` may move
    a few ulps from the real multiplier to clear thresholds that sit within rounding of an integer.
    Both sides being monotone, agreeing at the thresholds means agreeing on every accumulator in
    ``[acc_min, acc_max]``: the float map is exact by construction, checked with the same numpy
    operations that ``__call__`` runs. Otherwise (int16 outputs, accumulators that could overflow
    int32, no fitting map) the reference fixed-point code runs on int64 arrays.

    ``int64_multiply`` selects TFLM's 64-bit ``MultiplyByQuantizedMultiplier`` (16x8 kernels with
    64-bit accumulators); otherwise the accumulator is wrapped to int32 first, as C does.
    """

    _MAX_STEPS = 256
    _ULPS = 32
    _BLOCK = 1 << 18  # accumulator values per evaluation block

    def __init__(self, multiplier, shift, bias, zero_point: int, act_min: int, act_max: int,
                 acc_min, acc_max, out_dtype, acc_dtype, int64_multiply: bool = False) -> None:
        channels = np.broadcast_shapes(np.shape(multiplier), np.shape(acc_min))
        self.multiplier = np.broadcast_to(np.asarray(multiplier, np.int64), channels).copy()
        self.shift = np.broadcast_to(np.asarray(shift, np.int64), channels).copy()
        self.bias = np.broadcast_to(np.asarray(bias, np.int64), channels).copy()
        self.zero_point, self.act_min, self.act_max = int(zero_point), int(act_min), int(act_max)
        self.acc_min = np.broadcast_to(np.asarray(acc_min, np.int64), channels).copy()
        self.acc_max = np.broadcast_to(np.asarray(acc_max, np.int64), channels).copy()
        self.out_dtype = np.dtype(out_dtype)
        self.int64_multiply = int64_multiply
        self.origin = self.act_min  # the map targets y = output - origin
        self.dtype: np.dtype | None = None  # float dtype of the affine map, None: fixed-point path
        self._tiles: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._native = None  # the compiled stage's arrays (native.stage_arrays), False: none
        if act_min == act_max:
            self.dtype = np.dtype(np.float64) if np.dtype(acc_dtype).kind == "f" else None
            self.m = np.zeros(channels, self.dtype)
            self.b = np.zeros(channels, self.dtype)
        elif self._monotone() and act_max - act_min < self._MAX_STEPS:
            ks, thresholds = self._thresholds()
            # y = output - origin. With origin = act_min, y >= 0 and the unsigned cast floors it;
            # float32 may need y centred on zero (origin mid-range, one more floor pass) for
            # precision.
            centre = (act_min + act_max + 1) // 2
            for dtype, origin in ((np.float32, act_min), (np.float32, centre),
                                  (np.float64, act_min)):
                if np.dtype(acc_dtype) == np.float64 and dtype == np.float32:
                    continue
                found = self._fit(np.dtype(dtype), ks, thresholds, origin)
                if found is not None:
                    self.dtype, self.origin = np.dtype(dtype), origin
                    self.m, self.b = found
                    break

    @property
    def mode(self) -> str:
        return "fixed-point" if self.dtype is None else self.dtype.name

    def reference(self, acc: np.ndarray) -> np.ndarray:
        """The exact stage on int64 accumulators (no bias yet), as TFLM computes it."""
        return self._stage(acc, self.multiplier, self.shift, self.bias)

    def _stage(self, acc, multiplier, shift, bias) -> np.ndarray:
        acc = np.asarray(acc, np.int64) + bias
        if self.int64_multiply:
            scaled = fp.multiply_by_quantized_multiplier_int64(acc, multiplier, shift)
        else:
            scaled = fp.multiply_by_quantized_multiplier(fp.wrap_int32(acc), multiplier, shift)
        return np.clip(scaled + self.zero_point, self.act_min, self.act_max)

    def _monotone(self) -> bool:
        """No int32 wrap-around can occur over the accumulator range (else the stage is not
        monotone and only the fixed-point path reproduces it)."""
        extreme = np.maximum(np.abs(self.acc_min + self.bias), np.abs(self.acc_max + self.bias))
        if self.int64_multiply:
            return bool(np.all(extreme < (1 << 62) // (1 << 16)))
        left = np.maximum(self.shift, 0)
        return bool(np.all((extreme << left) < (1 << 31)))

    def _thresholds(self) -> tuple[np.ndarray, np.ndarray]:
        """For each output level k in (act_min, act_max]: the smallest accumulator reaching it
        (``acc_max + 1`` when none does), by bisection on the reference stage."""
        ks = np.arange(self.act_min + 1, self.act_max + 1, dtype=np.int64)
        shape = self.multiplier.shape + ks.shape
        first = np.broadcast_to(self.acc_min[..., None], shape)
        last = np.broadcast_to(self.acc_max[..., None] + 1, shape)
        args = (self.multiplier[..., None], self.shift[..., None], self.bias[..., None])
        # Bracket each threshold around its real-valued estimate (the fixed-point stage is within
        # one output step of round(acc * M)), falling back to the whole range where that fails.
        real = np.maximum(self._real_multiplier(), 1e-30)[..., None]
        guess = (ks - self.zero_point - 0.5) / real - self.bias[..., None]
        reach = 2.0 / real + 2.0
        low = np.clip(np.floor(guess - reach), first, last).astype(np.int64)
        high = np.clip(np.ceil(guess + reach), first, last).astype(np.int64)
        ok_low = (low == first) | (self._stage(np.maximum(low - 1, first), *args) < ks)
        ok_high = (high == last) | (self._stage(np.minimum(high, last - 1), *args) >= ks)
        low = np.where(ok_low & ok_high, low, first)
        high = np.where(ok_low & ok_high, high, last)
        while np.any(low < high):
            mid = (low + high) // 2
            reached = self._stage(mid, *args) >= ks
            high = np.where(reached, mid, high)
            low = np.where(reached, low, np.minimum(mid + 1, high))
        return ks, low

    def _real_multiplier(self) -> np.ndarray:
        if self.int64_multiply:
            reduced = np.where(self.multiplier < 0x7FFF0000, (self.multiplier + (1 << 15)) >> 16,
                               0x7FFF)
            return reduced * np.exp2((self.shift - 15).astype(np.float64))
        return self.multiplier * np.exp2((self.shift - 31).astype(np.float64))

    def _fit(self, dtype: np.dtype, ks: np.ndarray, t: np.ndarray, origin: int):
        """Per-channel (m, b) in ``dtype`` whose floor steps at every threshold, or None. The
        multiplier is tried at its nearest float and, in float32, up to ``_ULPS`` units in the
        last place away, which tilts the map just enough to clear thresholds that sit closer to
        an integer than float32 resolves."""
        exact = self._real_multiplier().astype(dtype).reshape(-1)
        level = (ks - origin).astype(dtype)
        t = t.reshape(exact.size, -1)
        acc_max = self.acc_max.reshape(-1, 1)
        reached = t <= acc_max
        below = np.where(reached, t - 1, acc_max)
        has_below = below >= self.acc_min.reshape(-1, 1)
        at_t, at_below = t.astype(dtype), below.astype(dtype)
        m, b = np.zeros_like(exact), np.zeros_like(exact)
        todo = np.arange(exact.size)
        steps = [0] if dtype == np.float64 else [0] + [d * s for d in range(1, self._ULPS + 1)
                                                       for s in (1, -1)]
        for k, step in enumerate(steps):
            candidate = exact[todo] + step * np.spacing(exact[todo])
            p = at_t[todo] * candidate[:, None]
            q = at_below[todo] * candidate[:, None]
            hit, miss = reached[todo], has_below[todo]
            gap_p = np.where(hit, level.astype(np.float64) - p, -np.inf).max(-1)
            gap_q = np.where(miss, level.astype(np.float64) - q, np.inf).min(-1)
            mid = np.where(np.isinf(gap_p), gap_q - 0.5,
                           np.where(np.isinf(gap_q), gap_p + 0.5, (gap_p + gap_q) / 2))
            offset = mid.astype(dtype)
            ok = gap_p < gap_q
            ok &= np.all(~hit | ((p + offset[:, None]) >= level), axis=-1)
            ok &= np.all(~miss | ((q + offset[:, None]) < level), axis=-1)
            m[todo[ok]], b[todo[ok]] = candidate[ok], offset[ok]
            todo = todo[~ok]
            if todo.size == 0:
                return m.reshape(self.multiplier.shape), b.reshape(self.multiplier.shape)
            if k == 16 and todo.size * 8 > exact.size:
                break  # too many channels left: this dtype will not fit them all
        return None

    def _tiled(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(m, b) repeated along a last axis of ``length`` = pixels * channels: long rows keep
        numpy's inner loops efficient when there are few channels."""
        if length not in self._tiles:
            reps = length // self.m.shape[-1]
            self._tiles[length] = (np.tile(self.m, reps), np.tile(self.b, reps))
        return self._tiles[length]

    def __call__(self, acc: np.ndarray, scratch: bool = False,
                 out: np.ndarray | None = None) -> np.ndarray:
        """Requantize ``acc``, whose last axis holds whole pixels (a multiple of the channel
        count, channels fastest). ``scratch``: ``acc`` may be overwritten. ``out``: where to
        write the result (``acc``'s shape, the output dtype), else a new array. Rows go in blocks
        of about ``_BLOCK`` values, so the float64 temporaries stay small and in cache."""
        if out is None:
            out = np.empty(acc.shape, self.out_dtype)
        if self._compiled(acc, out):
            return out
        cols = acc.shape[-1]
        rows, dest = acc.reshape(-1, cols), out.reshape(-1, cols)
        if not np.may_share_memory(dest, out):
            raise ValueError("out must be reshapeable to rows without a copy")
        step = max(1, self._BLOCK // max(cols, 1))
        for first in range(0, rows.shape[0], step):
            self._rows(rows[first:first + step], dest[first:first + step], scratch)
        return out

    def _compiled(self, acc: np.ndarray, out: np.ndarray) -> bool:
        """The same stage in one compiled pass (``native.py``) for float32 accumulators (exact
        below 2**24 by the kernels' bounds) and int8 outputs; False when it does not apply."""
        if (acc.dtype != np.float32 or out.dtype != np.int8 or self.int64_multiply
                or acc.size < 1024 or not (acc.flags.c_contiguous and out.flags.c_contiguous)):
            return False
        if self._native is None:
            self._native = native.stage_arrays(self, 1) if native.library() is not None else False
        return bool(self._native) and native.requantize(acc, self, self._native, out)

    def _rows(self, acc: np.ndarray, out: np.ndarray, scratch: bool) -> None:
        if self.dtype is None:
            channels = self.multiplier.shape[-1]
            values = self.reference(acc.reshape(-1, channels)).reshape(acc.shape)
            np.copyto(out, values, casting="unsafe")  # within [act_min, act_max]
            return
        m, b = self._tiled(acc.shape[-1])
        if scratch and acc.dtype == self.dtype:
            y = acc
        else:  # float32 -> float64 is exact
            y = workspace("requant", acc.shape, self.dtype)
            np.copyto(y, acc)
        np.multiply(y, m, out=y)
        y += b
        if self.origin != self.act_min:
            np.floor(y, out=y)
            np.clip(y, self.act_min - self.origin, self.act_max - self.origin, out=y)
            np.copyto(out, y, casting="unsafe")
        else:
            np.clip(y, 0, self.act_max - self.act_min + 0.5, out=y)
            np.copyto(out.view(np.dtype(f"u{self.out_dtype.itemsize}")), y, casting="unsafe")
        if self.origin:
            out += self.out_dtype.type(self.origin)
