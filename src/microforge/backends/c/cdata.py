"""Rendering numpy arrays and scalars as C99 literals."""

from __future__ import annotations

import numpy as np

CTYPES = {
    np.dtype(np.int8): "int8_t",
    np.dtype(np.uint8): "uint8_t",
    np.dtype(np.int16): "int16_t",
    np.dtype(np.uint16): "uint16_t",
    np.dtype(np.int32): "int32_t",
    np.dtype(np.uint32): "uint32_t",
    np.dtype(np.int64): "int64_t",
    np.dtype(np.uint64): "uint64_t",
    np.dtype(np.float32): "float",
    np.dtype(np.float64): "double",
    np.dtype(np.bool_): "uint8_t",
}


def ctype(dtype) -> str:
    return CTYPES[np.dtype(dtype)]


def c_float(v: float) -> str:
    """An exact float32 literal (hex float keeps every bit; infinities via HUGE_VALF)."""
    v = np.float32(v)
    if np.isnan(v):
        return "NAN"
    if np.isinf(v):
        return "HUGE_VALF" if v > 0 else "-HUGE_VALF"
    return float(v).hex() + "f"


def c_int(v: int, dtype) -> str:
    v = int(v)
    dtype = np.dtype(dtype)
    if dtype == np.int32 and v == -(1 << 31):
        return "INT32_MIN"
    if dtype == np.int64:
        if v == -(1 << 63):
            return "INT64_MIN"
        return f"INT64_C({v})"
    if dtype in (np.uint32,):
        return f"{v}u"
    if dtype == np.uint64:
        return f"UINT64_C({v})"
    return str(v)


def c_values(array: np.ndarray, per_line: int = 16) -> str:
    flat = np.asarray(array).reshape(-1)
    if flat.dtype.kind == "f":
        items = [c_float(v) for v in flat.astype(np.float32)]
    else:
        items = [c_int(v, flat.dtype) for v in flat]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n    ".join(lines)


# Characters a file's text may carry into a C comment unchanged: printable ASCII without a
# backslash (line splices); "*", "/" and "?" are kept unless they pair into "*/", "/*" or "??".
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"\\"}
COMMENT_MAX = 200


def c_comment(text: str) -> str:
    """``text`` (a file name, a model description, an operator name: untrusted) safe inside a
    ``/* ... */`` comment: one line of printable ASCII without ``*/``, ``/*``, ``??`` (a trigraph
    such as ``??/`` splices lines under -trigraphs) or a backslash; anything else becomes ``_``,
    and the result is cut to ``COMMENT_MAX`` characters."""
    out = "".join(ch if ch in _PLAIN else "_" for ch in text[:COMMENT_MAX])
    while "*/" in out or "/*" in out or "??" in out:
        out = out.replace("*/", "*_").replace("/*", "/_").replace("??", "?_")
    return out

