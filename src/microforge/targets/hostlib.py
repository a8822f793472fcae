"""The generated C library built for this machine and called from Python: the runtime's compiled
whole-model path (``Model.run`` uses it for single samples and tiny models, see docs/runtime.md).

The library is the one ``microforge compile`` writes (C backend, no patch stages: on a host speed
counts, not RAM), plus a batch loop (``NAME_batch``) around ``NAME_invoke``. It is built with
``-O3 -march=native -ffp-contract=off`` (no fused multiply-add: float results stay those of the
portable C) into a shared object cached under ``$XDG_CACHE_HOME/microforge/models`` keyed by the
generated sources, the compiler, the flags and the CPU, and called through ctypes, which releases
the GIL during the call. The generated C reproduces the runtime bit for bit (what ``compile
--verify`` proves); the tests compare both on the shared models.

The C keeps its arena and state in static storage, so one loaded copy runs one inference at a
time: calls are serialised by a lock, and a batch split over ``workers`` threads loads that many
copies of the shared object (each ``dlopen`` of another file has its own statics).
"""

from __future__ import annotations

import copy
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from microforge.backends.c.cdata import ctype
from microforge.backends.c.compiler import compile_model
from microforge.errors import MicroforgeError, ToolError
from microforge.ir import Graph
from microforge.runtime import native

FLAGS = ["-std=c99", "-O3", "-march=native", "-ffp-contract=off", "-fPIC", "-shared",
         "-DMF_STATE_API"]
NAME = "mf_host_model"


def cache_dir() -> Path:
    return native.cache_dir() / "models"


def batch_source(graph: Graph) -> str:
    """``NAME_batch(n, ins, outs)``: ``NAME_invoke`` over ``n`` samples laid out one after the
    other in each input and output array; returns the first non-zero status.
    ``NAME_streams(n, ins, outs, states)``: the same for a stateful model, each sample the next
    step of its own stream (its state loaded before and saved after, ``MF_STATE_API``)."""
    sg = graph.main
    lines = ["#include <stddef.h>", f'#include "{NAME}.h"', "",
             f"int {NAME}_batch(long n, void *const *ins, void *const *outs) {{",
             "    long i;", "    int status;", "    for (i = 0; i < n; ++i) {"]
    args = []
    for k, t in enumerate(sg.inputs):
        c, size = ctype(sg.tensors[t].dtype), max(sg.tensors[t].size, 1)
        args.append(f"(const {c} *)ins[{k}] + (size_t)i * {size}u")
    for k, t in enumerate(sg.outputs):
        c, size = ctype(sg.tensors[t].dtype), max(sg.tensors[t].size, 1)
        args.append(f"({c} *)outs[{k}] + (size_t)i * {size}u")
    lines += [f"        status = {NAME}_invoke({', '.join(args)});",
              "        if (status != 0) { return status; }", "    }", "    return 0;", "}", "",
              "/* The same, sample i continuing the stream whose state is row i of states. */",
              f"int {NAME}_streams(long n, void *const *ins, void *const *outs, "
              "unsigned char *states) {",
              f"    size_t size = {NAME}_state_bytes();",
              "    long i;", "    int status;", "    for (i = 0; i < n; ++i) {",
              f"        {NAME}_load_state(states + (size_t)i * size);",
              f"        status = {NAME}_invoke({', '.join(args)});",
              f"        {NAME}_save_state(states + (size_t)i * size);",
              "        if (status != 0) { return status; }", "    }", "    return 0;", "}", ""]
    return "\n".join(lines)


def _compiler() -> str:
    for candidate in [os.environ.get("CC"), "cc", "gcc", "clang"]:
        if candidate and shutil.which(candidate):
            return candidate
    raise ToolError("no C compiler found for the compiled host path (install gcc)")


def build(graph: Graph) -> Path:
    """Generate, compile and cache the shared object for ``graph``; its path. Raises a
    MicroforgeError when the model has no C (an operator without a C kernel) or the build fails."""
    try:
        return _build(graph)
    except OSError as exc:  # no space, a read-only cache, a compiler that cannot run
        raise ToolError(f"building the compiled host path failed: {exc}") from None


def _build(graph: Graph) -> Path:
    compiler = _compiler()
    graph = copy.deepcopy(graph)  # code generation may rewrite its graph; the runtime's stays
    with tempfile.TemporaryDirectory(prefix="mf-hostlib-") as work:
        src = Path(work) / "src"
        compile_model(graph, src, NAME, patches=False)
        (src / "mf_host_batch.c").write_text(batch_source(graph))
        sources = sorted(src.glob("*.c"))
        digest = hashlib.sha256(" ".join([compiler, *FLAGS, platform.machine(), native.cpu_key()])
                                .encode())
        for path in sorted(src.iterdir()):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        target = cache_dir() / f"{NAME}-{digest.hexdigest()[:20]}.so"
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        built = Path(work) / target.name
        proc = subprocess.run([compiler, *FLAGS, f"-I{src}", *map(str, sources), "-o", str(built),
                               "-lm"], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not built.is_file():
            first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
            raise ToolError(f"building the compiled host path failed: {first}")
        fd, staged = tempfile.mkstemp(suffix=".so", dir=target.parent)  # same file system
        os.close(fd)
        try:
            shutil.copyfile(built, staged)
            os.replace(staged, target)  # atomic: concurrent builders agree
        finally:
            Path(staged).unlink(missing_ok=True)
        return target


class HostLibrary:
    """One model's shared object, loaded ``copies`` times (each copy runs one inference at a
    time); ``run`` takes and returns batch-major arrays like the runtime's executor."""

    def __init__(self, graph: Graph, path: Path, copies: int = 1) -> None:
        sg = graph.main
        self._in = [(tuple(sg.tensors[t].shape), np.dtype(sg.tensors[t].dtype)) for t in sg.inputs]
        self._out = [(tuple(sg.tensors[t].shape), np.dtype(sg.tensors[t].dtype))
                     for t in sg.outputs]
        self._path = path
        self._singles: list[tuple[np.ndarray, ...]] = []
        self._libs: list[tuple[Any, Any, threading.Lock, Any]] = []
        self.state_bytes = 0
        self._add_copies(max(1, copies))

    def _add_copies(self, copies: int) -> None:
        while len(self._libs) < copies:
            if self._libs:  # another file: dlopen gives it its own static arena and state
                fd, name = tempfile.mkstemp(suffix=".so", prefix="mf-hostlib-copy-")
                os.close(fd)
                try:
                    shutil.copyfile(self._path, name)
                    lib = ctypes.CDLL(name)
                finally:  # the mapping stays valid: nothing is left behind in the temp dir
                    os.unlink(name)
            else:
                lib = ctypes.CDLL(str(self._path))
            run, reset = getattr(lib, f"{NAME}_batch"), getattr(lib, f"{NAME}_reset")
            streams = getattr(lib, f"{NAME}_streams")
            run.argtypes, run.restype = [ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p], ctypes.c_int
            streams.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
            streams.restype = ctypes.c_int
            reset.argtypes, reset.restype = [], None
            self._libs.append((run, reset, threading.Lock(), streams))
            if len(self._libs) == 1:
                size, save = getattr(lib, f"{NAME}_state_bytes"), getattr(lib, f"{NAME}_save_state")
                size.argtypes, size.restype = [], ctypes.c_size_t
                save.argtypes, save.restype = [ctypes.c_void_p], None
                self.state_bytes = int(size())
                self._save = save
            if len(self._libs) == 1:  # one sample through copy 0 with buffers made once
                invoke = getattr(lib, f"{NAME}_invoke")
                invoke.argtypes = [ctypes.c_void_p] * (len(self._in) + len(self._out))
                invoke.restype = ctypes.c_int
                ins = [np.zeros(shape, dtype) for shape, dtype in self._in]
                outs = [np.zeros(shape, dtype) for shape, dtype in self._out]
                pointers = [ctypes.c_void_p(a.ctypes.data) for a in ins + outs]
                self._single = (invoke, pointers, ins[0], ins[0].shape, ins[0].dtype, outs,
                                [o[None] for o in outs], self._libs[0][2])

    def single(self, x: np.ndarray) -> list[np.ndarray] | None:
        """The outputs of one sample of a stateless one-input model given in its input's exact shape
        and dtype (outputs in their tensors' shapes), or as a batch of one (outputs with the same
        leading axis); None when ``x`` is neither or the library is busy (the caller takes the
        general path). The cheapest call there is: the pointers are
        made once, the sample is copied into a buffer of copy 0."""
        invoke, pointers, buf, shape_, dtype, outs, batched_outs, lock = self._single
        if x.__class__ is list or x.__class__ is tuple:
            if len(x) != 1:
                return None
            x = x[0]
        if x.__class__ is not np.ndarray or x.dtype is not dtype and x.dtype != dtype:
            return None
        shape = x.shape
        if shape == shape_:
            result = outs
        elif shape[1:] == shape_ and shape[0] == 1 and len(shape) == len(shape_) + 1:
            result, x = batched_outs, x[0]
        else:
            return None
        if not lock.acquire(False):
            return None
        buf[...] = x
        status = invoke(*pointers)
        result = [result[0].copy()] if len(result) == 1 else [o.copy() for o in result]
        lock.release()
        if status != 0:
            raise MicroforgeError(f"the compiled model returned status {status}")
        return result

    def reset(self) -> None:
        for _, reset, lock, _ in self._libs:
            with lock:
                reset()

    def initial_states(self, batch: int) -> np.ndarray:
        """``batch`` rows of the model's initial state (``NAME_reset``), for ``run(states=)``."""
        row = np.zeros(max(1, self.state_bytes), np.uint8)
        _, reset, lock, _ = self._libs[0]
        with lock:
            reset()
            self._save(row.ctypes.data)
        return np.ascontiguousarray(np.repeat(row[None], batch, axis=0))

    def _call(self, copy: int, inputs: list[np.ndarray], outputs: list[np.ndarray],
              rows: slice, states: np.ndarray | None) -> None:
        run, _, lock, streams = self._libs[copy]
        n = (rows.stop or 0) - (rows.start or 0)
        ins = (ctypes.c_void_p * max(1, len(inputs)))(*[a[rows].ctypes.data for a in inputs])
        outs = (ctypes.c_void_p * max(1, len(outputs)))(*[a[rows].ctypes.data for a in outputs])
        with lock:
            if states is None:
                status = run(n, ins, outs)
            else:
                status = streams(n, ins, outs, states[rows].ctypes.data)
        if status != 0:
            raise MicroforgeError(f"the compiled model returned status {status}")

    def run(self, inputs: list[np.ndarray], batch: int, workers: int = 1,
            states: np.ndarray | None = None) -> list[np.ndarray]:
        """``inputs``: (batch,) + shape arrays of the model's dtypes; runs on ``workers`` copies
        (threads) when the batch is large enough to share. ``states`` (stateful models): one row
        per sample (:meth:`initial_states`), each sample the next step of its row's stream; the
        rows are updated."""
        inputs = [np.ascontiguousarray(a, dtype) for a, (_, dtype) in zip(inputs, self._in)]
        outputs = [np.empty((batch,) + shape, dtype) for shape, dtype in self._out]
        workers = max(1, min(workers, batch))
        if workers == 1:
            self._call(0, inputs, outputs, slice(0, batch), states)
            return outputs
        self._add_copies(workers)
        step = -(-batch // workers)
        parts = [slice(s, min(batch, s + step)) for s in range(0, batch, step)]
        errors: list[BaseException] = []

        def call(k: int, part: slice) -> None:
            try:
                self._call(k, inputs, outputs, part, states)
            except BaseException as exc:  # re-raised in the calling thread below
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(k, part))
                   for k, part in enumerate(parts[1:], start=1)]
        for t in threads:
            t.start()
        call(0, parts[0])
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return outputs


MODES = ("auto", "eager", "always", "never")
SMALL_BATCH = 8  # batches up to this size go to the library in ``auto`` mode ...
TINY_MACS = 50_000  # ... and batches of any size of a model with fewer MACs per sample
PARALLEL_BATCH = 64  # batches from this size run on several library copies at once
HOT_CALLS = 16  # ``auto`` builds the library once the model had this many such calls


def mode_of(compiled: bool | None) -> str:
    """``compiled`` (``load(..., compiled=)``) or ``$MICROFORGE_COMPILED`` as a mode."""
    if compiled is not None:
        return "always" if compiled else "never"
    value = os.environ.get("MICROFORGE_COMPILED", "auto").strip().lower()
    return {"1": "eager", "0": "never", "": "auto"}.get(value, value if value in MODES else "auto")


class CompiledPath:
    """When a model's calls go to its compiled library.

    * ``never``: not at all. ``always``: the library is built at once (an error if it cannot
      be) and serves every call it can. ``eager`` (``MICROFORGE_COMPILED=1``): the same, but a
      model without C stays on the numpy runtime.
    * ``auto`` (the default): calls of at most ``SMALL_BATCH`` samples, or of any size when the
      model has fewer than ``TINY_MACS`` MACs per sample, are where Python's per-operator
      dispatch costs more than the arithmetic. After ``HOT_CALLS`` of them the library is built in
      a background thread (cached on disk for later processes) and serves such calls once it is
      ready; larger batches of a tiny model go where they ran faster per sample (the best time
      of each kind: numpy's large calls, the compiled ones after the first). A model the C
      backend cannot compile simply stays on the numpy runtime.
    * A stateful model runs its streams (the calls between two resets) wholly in one place:
      calls of any size that start them once the library is ready run compiled (numpy steps
      sequence models one time step at a time in Python, whatever the batch), each batch row's
      state kept in ``states`` and swapped in and out around its step.
    """

    def __init__(self, graph: Graph, mode: str, macs: int, stateful: bool) -> None:
        self.graph, self.mode, self.stateful = graph, mode, stateful
        self.tiny = macs < TINY_MACS
        layout = graph.source
        self.single_input = len(graph.main.inputs) == 1 and (layout is None or (
            layout.input_perm(0) is None
            and all(layout.output_perm(k) is None for k in range(len(graph.main.outputs)))))
        self.library: HostLibrary | None = None
        self.failed: str | None = None
        self._calls = 0
        self._building: threading.Thread | None = None
        self.stream: str | None = None  # stateful: "c" or "numpy" since the last reset
        self.states: np.ndarray | None = None  # stateful, "c": each stream's state, a row each
        self._per_sample: dict[str, float | None] = {"c": None, "numpy": None}
        self._warm = 0  # large compiled calls so far
        self._fast: Callable[[Any], list[np.ndarray] | None] | None = None
        if mode == "always":
            self._ready(HostLibrary(graph, build(graph)))
        elif mode == "eager":
            self._build()

    @property
    def status(self) -> str:
        """``off``, ``not built``, ``building``, ``ready`` or ``unavailable: why``."""
        if self.mode == "never":
            return "off"
        if self.library is not None:
            return "ready"
        if self.failed is not None:
            return f"unavailable: {self.failed}"
        return "building" if self._building is not None else "not built"

    def _build(self) -> None:
        try:
            self._ready(HostLibrary(self.graph, build(self.graph)))
        except (MicroforgeError, OSError, subprocess.SubprocessError) as exc:
            self.failed = str(exc)

    def wants(self, batch: int) -> bool:
        """Whether a call of ``batch`` samples (no intermediates) should run compiled: counts
        the call, starts the build when the model turns out hot."""
        if self.mode == "never" or self.failed is not None:
            return False
        if self.mode in ("always", "eager"):
            return True
        if batch > SMALL_BATCH and not (self.tiny or self.stateful):
            return False
        if self.library is None:
            self._calls += 1
            if self._calls >= HOT_CALLS and self._building is None:
                self._building = threading.Thread(target=self._build, daemon=True,
                                                  name="microforge-hostlib")
                self._building.start()
            return False
        if batch > SMALL_BATCH and not self.stateful:  # tiny model: whichever ran faster
            c, numpy = self._per_sample["c"], self._per_sample["numpy"]
            if c is None or numpy is None:
                return c is None  # compiled until it has a time (after its warm-up call)
            return c <= numpy
        return True

    def record(self, compiled: bool, seconds: float, batch: int) -> None:
        """The time a call of ``batch`` samples took. On a tiny model, the best time per sample
        of each kind of large call decides where the later ones run (numpy's vector kernels win
        on models of few MACs but large elementwise tensors); the first compiled one is not
        counted (it loads the library's copies for the threads)."""
        if batch <= SMALL_BATCH or self.stateful:
            return
        key = "c" if compiled else "numpy"
        if compiled:
            self._warm += 1
            if self._warm == 1:
                return
        best = self._per_sample[key]
        self._per_sample[key] = seconds / batch if best is None else min(best, seconds / batch)

    def reset(self) -> None:
        self.stream, self.states = None, None

    def start_stream(self, compiled: bool, batch: int) -> None:
        """A stateful model's first call since the last reset: where its stream runs."""
        self.stream = "c" if compiled and self.library is not None else "numpy"
        if self.stream == "c":
            assert self.library is not None
            self.states = self.library.initial_states(batch)

    @property
    def fast(self) -> Callable[[Any], list[np.ndarray] | None] | None:
        """The fast path of ``Model.run`` for one sample of a stateless one-input model once
        the library is ready (:meth:`HostLibrary.single`), else None."""
        return self._fast

    def _ready(self, library: HostLibrary) -> None:
        self.library = library
        if not self.stateful and self.single_input:
            self._fast = library.single

    def wait(self) -> None:
        """Until a background build has finished (tests, benchmarks)."""
        if self._building is not None:
            self._building.join()
