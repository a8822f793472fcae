"""Compiled int8 kernels for the host runtime (``native.c``: depthwise and plain convolution,
binary operators through their result table), optional.

When a C compiler (``$CC``, else ``gcc`` / ``cc``) is on PATH, ``native.c`` is built once with
``-O3 -march=native -ffp-contract=off`` into a shared library cached under
``$XDG_CACHE_HOME/microforge`` (``~/.cache/microforge``), keyed by the source, the flags and the
CPU, and called through ctypes (which releases the GIL: the executor's workers run in parallel).
Without a compiler, when the build fails, or with ``MICROFORGE_NATIVE=0``, the numpy kernels
run instead. Both compute TFLM's int32 accumulators and the same float output map
(``Requantizer``), so their results are identical; the tests compare them on every shape class.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("native.c")
FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-fPIC", "-shared", "-std=c99"]
_LIB: list = []  # [CDLL or None], built once


def cpu_key() -> str:
    """What identifies this CPU for ``-march=native`` builds (its flags line)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "model name", "Features")):
                return line
    except OSError:
        pass
    return platform.processor()


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/microforge`` (``~/.cache/microforge``): compiled code built here."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "microforge"


def _build() -> ctypes.CDLL | None:
    compiler = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not compiler or not shutil.which(compiler):
        return None
    source = SOURCE.read_bytes()
    key = hashlib.sha256(source + " ".join([compiler, *FLAGS, platform.machine(), cpu_key()])
                         .encode()).hexdigest()[:16]
    target = cache_dir() / f"native-{key}.so"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            built = Path(work) / target.name
            result = subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", str(built), "-lm"],
                                    capture_output=True, timeout=120)
            if result.returncode != 0 or not built.is_file():
                return None
            os.replace(built, target)  # atomic: concurrent builders agree
    lib = ctypes.CDLL(str(target))
    i32, ptr = ctypes.c_int32, ctypes.c_void_p
    lib.mf_depthwise_s8.argtypes = [ptr, i32, i32, ptr, ptr, i32, ptr, ptr, i32, i32, i32, i32, ptr]
    lib.mf_conv_s8.argtypes = [ptr, i32, i32, ptr, i32, i32, ptr, i32, ptr, ptr, i32, i32, i32,
                               i32, ptr]
    lib.mf_depthwise_s8.restype = lib.mf_conv_s8.restype = i32
    lib.mf_requant_f32.argtypes = [ptr, ctypes.c_int64, i32, ptr, ptr, i32, i32, i32, i32, ptr]
    lib.mf_requant_f32.restype = i32
    lib.mf_table2_s8.argtypes = [ptr, ptr, ctypes.c_int64, ptr, ptr]
    lib.mf_table2_s8.restype = None
    return lib


def library() -> ctypes.CDLL | None:
    """The compiled kernels, or None (no compiler, build failed, ``MICROFORGE_NATIVE=0``)."""
    if os.environ.get("MICROFORGE_NATIVE", "1") == "0":
        return None
    if not _LIB:
        try:
            _LIB.append(_build())
        except (OSError, subprocess.SubprocessError):
            _LIB.append(None)
    return _LIB[0]


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


def _stage_args(requant, m: np.ndarray, b: np.ndarray) -> list:
    if requant.dtype is None:
        mode, origin = 2, requant.zero_point
    else:
        mode, origin = int(requant.dtype == np.float64), requant.origin
    return [_ptr(m), _ptr(b), mode, origin, requant.act_min, requant.act_max]


def stage_arrays(requant, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """The output stage's per-channel arrays for C, repeated ``reps`` times: the float map's
    (m, b), or for the fixed-point stage (int32 multipliers, int64 (shifts, biases) rows)."""
    if requant.dtype is None:
        q = np.tile(requant.multiplier.reshape(-1), reps).astype(np.int32)
        rows = np.stack([np.tile(v.reshape(-1), reps) for v in (requant.shift, requant.bias)])
        return np.ascontiguousarray(q), np.ascontiguousarray(rows, np.int64)
    m, b = (np.ascontiguousarray(np.tile(v.reshape(-1), reps), requant.dtype)
            for v in (requant.m, requant.b))
    return m, b


def usable(requant, acc_dtype, x_dtype, out_dtype) -> bool:
    """The compiled kernels apply: int8 in and out, accumulators bounded below 2**24 (int32
    never wraps), the 32-bit ``MultiplyByQuantizedMultiplier``."""
    return (not requant.int64_multiply and np.dtype(acc_dtype) == np.float32
            and np.dtype(x_dtype) == np.int8 and np.dtype(out_dtype) == np.int8
            and library() is not None)


def geometry_array(g) -> np.ndarray:
    return np.array([g.in_h, g.in_w, g.k_h, g.k_w, g.stride_h, g.stride_w, g.dil_h, g.dil_w,
                     g.pad_top, g.pad_left, g.out_h, g.out_w], np.int32)


@dataclass
class DepthwisePlan:
    """What ``mf_depthwise_s8`` reads besides the input: (taps, out_w * C) int16 weights, the
    output stage (``stage_arrays``) repeated to out_w * C, the geometry (``geometry_array``)."""

    weights: np.ndarray
    m: np.ndarray
    b: np.ndarray
    geometry: np.ndarray

    @classmethod
    def of(cls, taps: np.ndarray, g, requant) -> DepthwisePlan:
        """``taps``: (k_h * k_w, C) int8 filter values; ``requant``: the layer's Requantizer."""
        m, b = stage_arrays(requant, g.out_w)
        return cls(np.ascontiguousarray(np.tile(taps, (1, g.out_w)), np.int16), m, b,
                   geometry_array(g))


def depthwise(x: np.ndarray, plan: DepthwisePlan, zero_point: int, requant) -> np.ndarray:
    """x (N, H, W, C) int8 -> (N, out_h, out_w, C) int8 (depth multiplier 1)."""
    x = np.ascontiguousarray(x)
    n, ch = x.shape[0], x.shape[3]
    out = np.empty((n, int(plan.geometry[10]), int(plan.geometry[11]), ch), np.int8)
    code = library().mf_depthwise_s8(_ptr(x), n, ch, _ptr(plan.weights), _ptr(plan.geometry),
                                     -zero_point, *_stage_args(requant, plan.m, plan.b),
                                     _ptr(out))
    if code:
        raise MemoryError("native depthwise: out of memory")
    return out


@dataclass
class ConvPlan:
    """What ``mf_conv_s8`` reads besides the input: (C_out, K) int16 weights (K = taps * C_in
    rounded up to 16, zero filled), the per-channel output stage (``stage_arrays``), the
    geometry."""

    weights: np.ndarray
    m: np.ndarray
    b: np.ndarray
    geometry: np.ndarray

    @classmethod
    def of(cls, ohwi: np.ndarray, g, requant) -> ConvPlan:
        """``ohwi``: the int8 filter (C_out, k_h, k_w, C_in)."""
        flat = ohwi.reshape(ohwi.shape[0], -1)
        k = -(-flat.shape[1] // 16) * 16
        weights = np.zeros((flat.shape[0], k), np.int16)
        weights[:, :flat.shape[1]] = flat
        m, b = stage_arrays(requant, 1)
        return cls(weights, m, b, geometry_array(g))


def conv(x: np.ndarray, plan: ConvPlan, zero_point: int, requant) -> np.ndarray:
    """x (N, H, W, C_in) int8 -> (N, out_h, out_w, C_out) int8 (one filter group)."""
    x = np.ascontiguousarray(x)
    n, c_in = x.shape[0], x.shape[3]
    c_out, k = plan.weights.shape
    out = np.empty((n, int(plan.geometry[10]), int(plan.geometry[11]), c_out), np.int8)
    code = library().mf_conv_s8(_ptr(x), n, c_in, _ptr(plan.weights), c_out, k,
                                _ptr(plan.geometry), -zero_point,
                                *_stage_args(requant, plan.m, plan.b), _ptr(out))
    if code:
        raise MemoryError("native conv: out of memory")
    return out


def table2(x: np.ndarray, y: np.ndarray, table: np.ndarray) -> np.ndarray | None:
    """``table[x << 8 | y]`` on the byte patterns of two int8 arrays of one shape, or None when
    the compiled kernels are unavailable."""
    lib = library()
    if lib is None:
        return None
    x, y = np.ascontiguousarray(x), np.ascontiguousarray(y)
    out = np.empty(x.shape, np.int8)
    lib.mf_table2_s8(_ptr(x), _ptr(y), x.size, _ptr(table), _ptr(out))
    return out


def requantize(acc: np.ndarray, requant, arrays: tuple[np.ndarray, np.ndarray],
               out: np.ndarray) -> bool:
    """The output stage of float32 accumulators (C-contiguous, exact integers below 2**24) into
    the int8 ``out`` in one compiled pass; False when the compiled kernels are unavailable.
    ``arrays``: ``stage_arrays(requant, 1)``."""
    lib = library()
    if lib is None:
        return False
    channels = arrays[0].shape[0]
    code = lib.mf_requant_f32(_ptr(acc), acc.size // channels, channels, _ptr(arrays[0]),
                              _ptr(arrays[1]), *_stage_args(requant, *arrays)[2:], _ptr(out))
    if code:
        raise MemoryError("native requantize: out of memory")
    return True
