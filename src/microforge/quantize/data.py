"""Calibration data: one float32 array of shape ``(N,) + input_shape`` per model input.

Accepted: a ``.npy`` file (one-input models), a ``.npz`` file (arrays named after the inputs, or
saved positionally), a folder of such files (joined along the sample axis in name order), an array,
a list/tuple of arrays (one per input) or a dict by input name. The leading axis counts samples; when
an input's first dimension is 1 it may be replaced by the sample axis. For a model read from a
framework with another layout (ONNX's NCHW), data may come in that layout or channels-last; it is
told apart by its shape (when both fit, the model's own layout wins).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from microforge.errors import InputError
from microforge.ir import Tensor, batch_perm, source_shape

CalibrationSource = str | os.PathLike | np.ndarray | Sequence[np.ndarray] | Mapping[str, np.ndarray]


def _read_file(path: Path, names: list[str]) -> list[np.ndarray]:
    # mmap: a .npy header claiming more data than the file holds fails instead of allocating it
    try:
        data = np.load(path, allow_pickle=False, mmap_mode="r")
        if isinstance(data, np.ndarray):
            return _by_order([np.array(data)], names, str(path))
        with data:
            arrays = {k: data[k] for k in data.keys()}
    except (ValueError, OSError, EOFError, KeyError, RuntimeError, zipfile.BadZipFile,
            zlib.error) as exc:
        raise InputError(f"{path}: not a readable .npy/.npz file ({exc})") from None
    return _by_name(arrays, names, str(path))


def _by_order(arrays: Sequence[Any], names: list[str], where: str) -> list[np.ndarray]:
    if len(arrays) != len(names):
        raise InputError(
            f"{where}: {len(arrays)} array(s) for a model with {len(names)} input(s) {names}")
    return [np.asarray(a) for a in arrays]


def _by_name(arrays: Mapping[str, Any], names: list[str], where: str) -> list[np.ndarray]:
    keys = list(arrays)
    if set(keys) == set(names) or (set(keys) <= set(names) and len(names) == 1):
        return [np.asarray(arrays[n]) for n in names]
    if keys and all(isinstance(k, str) and k.startswith("arr_") for k in keys):
        return _by_order([arrays[f"arr_{i}"] for i in range(len(keys))], names, where)
    if len(keys) == 1 and len(names) == 1:
        return [np.asarray(arrays[keys[0]])]
    missing = [n for n in names if n not in arrays]
    raise InputError(
        f"{where}: no calibration data for input(s) {missing} (arrays given: {keys}; name them "
        "after the inputs or save them positionally)")


def _gather(source: CalibrationSource, names: list[str]) -> list[np.ndarray]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".npy", ".npz"))
            if not files:
                raise InputError(f"{path}: no .npy or .npz files in this folder")
            parts = [_read_file(f, names) for f in files]
            try:
                return [np.concatenate([p[k] for p in parts]) for k in range(len(names))]
            except ValueError as exc:
                raise InputError(f"{path}: the files' arrays do not stack ({exc})") from None
        if not path.is_file():
            raise InputError(f"{path}: no such calibration file or folder")
        return _read_file(path, names)
    if isinstance(source, np.ndarray):
        return _by_order([source], names, "calibration data")
    if isinstance(source, Mapping):
        return _by_name(source, names, "calibration data")
    if isinstance(source, (list, tuple)):
        return _by_order(source, names, "calibration data")
    raise InputError(f"calibration data must be a path, an array, a list or a dict, not "
                     f"{type(source).__name__}")


def _batched(arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``arr`` as ``(N,) + shape``, or None when it is not a batch of that shape."""
    if arr.ndim == len(shape) + 1 and arr.shape[1:] == shape:
        return arr
    if shape and shape[0] == 1 and arr.ndim == len(shape) and arr.shape[1:] == shape[1:]:
        return arr.reshape((arr.shape[0],) + shape)
    return None


def _shaped(arr: np.ndarray, t: Tensor, perm: tuple[int, ...] | None) -> np.ndarray:
    """``(N,) + t.shape``. With ``perm`` (the input's source layout, e.g. ONNX NCHW), data in the
    source layout is transposed to the IR's; data matching both layouts is taken as the source's."""
    shape = tuple(t.shape)
    if perm is not None:
        theirs = source_shape(shape, perm)
        batch = _batched(arr, theirs)
        if batch is not None:
            return np.ascontiguousarray(batch.transpose(batch_perm(perm)))
    batch = _batched(arr, shape)
    if batch is not None:
        return batch
    expected = f"[N, {', '.join(map(str, shape))}]"
    if perm is not None and theirs != shape:
        expected = f"[N, {', '.join(map(str, theirs))}] (the model's layout) or {expected}"
    raise InputError(
        f"calibration data for input {t.name!r} has shape {list(arr.shape)}; expected "
        f"{expected} (N samples)")


def load_calibration(source: CalibrationSource, inputs: list[Tensor],
                     perms: Sequence[tuple[int, ...] | None] = ()) -> list[np.ndarray]:
    """Validated calibration arrays ``(N,) + shape`` (float32 for float inputs), in input order.
    ``perms[k]`` is input k's source layout (``ir.SourceLayout``): such data may come in either
    layout."""
    if source is None:
        raise InputError("calibration data is required (a .npy/.npz file, a folder or arrays)")
    names = [t.name for t in inputs]
    arrays = _gather(source, names)
    out = []
    for k, (arr, t) in enumerate(zip(arrays, inputs)):
        if arr.dtype.kind not in "fiub":
            raise InputError(f"calibration data for input {t.name!r} is {arr.dtype}, not numeric")
        arr = _shaped(arr, t, perms[k] if k < len(perms) else None)
        if arr.shape[0] == 0:
            raise InputError(f"calibration data for input {t.name!r} has no samples")
        arr = arr.astype(t.dtype if t.dtype != np.float32 else np.float32)
        bad = ~np.isfinite(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
        if bad.any():
            samples = np.unique(np.nonzero(bad.reshape(arr.shape[0], -1))[0])
            raise InputError(
                f"calibration data for input {t.name!r} holds {int(bad.sum())} NaN/Inf value(s) "
                f"(in sample(s) {samples[:5].tolist()}{' ...' if samples.size > 5 else ''})")
        out.append(arr)
    counts = {a.shape[0] for a in out}
    if len(counts) > 1:
        raise InputError(f"calibration inputs have different sample counts {sorted(counts)}")
    return out
