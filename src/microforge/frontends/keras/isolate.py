"""Run libhdf5 on untrusted bytes in a forked child process.

libhdf5 is not hardened against hostile files: the fuzz campaign (``benchmarks/fuzz_campaign.py``)
found files on which it segfaults or loops forever inside native code, where Python can neither
catch nor interrupt it. :func:`in_child` therefore runs the HDF5 reading in a child made with
``os.fork`` (no re-import: the caller imports h5py first), under a time limit and an address-space
limit, and takes back only plain data -- JSON and an ``.npz`` of float32 arrays read with
``allow_pickle=False`` -- so even a child the file subverted cannot hand the parent code to run. A
crash, a timeout or a memory blow-up in the child is one :class:`ModelError`. Without ``os.fork``
(Windows) the reading runs in-process.
"""

from __future__ import annotations

import faulthandler
import io
import json
import os
import select
import signal
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from microforge import limits
from microforge.errors import ModelError

TIMEOUT_S = 60.0
Weights = dict[str, list[np.ndarray]]
Reader = Callable[[bytes], tuple[dict[str, Any], Weights]]


def in_child(read: Reader, data: bytes, what: str) -> tuple[dict[str, Any], Weights]:
    """``read(data)`` -- a JSON-able dict and float32 arrays by layer -- run in a child process."""
    if not hasattr(os, "fork"):
        return read(data)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(rfd)
        _child(read, data, wfd)
    os.close(wfd)
    try:
        payload = _collect(rfd, pid, what)
    finally:
        os.close(rfd)
    _, status = os.waitpid(pid, 0)
    if not payload:
        how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exit {os.WEXITSTATUS(status)}")
        raise ModelError(f"libhdf5 crashed reading {what} ({how}): it is corrupt; re-save the model")
    return decode_payload(payload, what)


def _child(read: Reader, data: bytes, wfd: int) -> None:
    try:
        faulthandler.disable()  # a crash here is expected of a hostile file: the parent reports it
        _limit_memory()
        view = memoryview(child_payload(read, data))
        while view:
            view = view[os.write(wfd, view):]
    finally:
        os._exit(0)


def child_payload(read: Reader, data: bytes) -> bytes:
    """What the child does and sends back: ``read(data)`` with every exception turned into plain
    data (:func:`decode_payload` raises the ModelError for it in the parent)."""
    try:
        meta, weights = read(data)
        return _encode({"ok": meta}, weights)
    except ModelError as exc:
        return _encode({"error": str(exc)}, {})
    except Exception as exc:  # reported to the parent, which raises a ModelError for it
        return _encode({"fault": f"{type(exc).__name__}: {exc}",
                        "where": traceback.format_exc(limit=-1).strip().splitlines()[-1]}, {})


def child_memory_limit() -> int:
    """The child's address-space limit: what the parent has mapped plus four times the tensor
    limit."""
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    return mapped + 4 * limits.TENSOR_BYTES.value


def _limit_memory() -> None:
    try:
        import resource

        limit = child_memory_limit()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError, ImportError):
        pass


def _collect(rfd: int, pid: int, what: str) -> bytes:
    chunks, deadline = [], time.monotonic() + TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([rfd], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise ModelError(f"libhdf5 did not finish reading {what} in {TIMEOUT_S:g} s: it is "
                             "corrupt; re-save the model")
        chunk = os.read(rfd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _encode(meta: dict[str, Any], weights: Weights) -> bytes:
    arrays, index = {}, {}
    for layer, values in weights.items():
        index[layer] = []
        for value in values:
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(value, np.float32)
            index[layer].append(key)
    header = json.dumps({"meta": meta, "index": index}).encode()
    arrays["header"] = np.frombuffer(header, np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def decode_payload(payload: bytes, what: str) -> tuple[dict[str, Any], Weights]:
    """The parent's side: the arrays and JSON the child sent, or its ModelError."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes())
        weights = {layer: [z[k] for k in keys] for layer, keys in header["index"].items()}
    meta = header["meta"]
    if "error" in meta:
        raise ModelError(meta["error"])
    if "fault" in meta:
        raise ModelError(f"{what} is corrupt ({meta['fault']}); re-save the model")
    return meta["ok"], weights
