"""BLAS threads x worker threads within the cores: no oversubscription in any environment.

The executor runs chunks of a batch on ``W`` worker threads (``W`` = the cores by default), and
every chunk calls BLAS (numpy's bundled OpenBLAS by default, which starts one thread per core).
``W`` workers each fanning out to ``cores`` BLAS threads put ``W x cores`` busy threads on
``cores`` CPUs: OpenBLAS's spinning threads fight each other and the workers. Even one worker
loses with a multi-threaded BLAS: the runtime's matrices are small (a chunk of a layer), and on a
2-core machine that was shared with other processes ResNet-8 ran 2.3x slower at batch 1 and
10x slower at batch 256 (docs/runtime.md). So while a run lasts, BLAS is limited to one thread
(parallelism comes from the workers, over samples) and restored afterwards:

1. with ``threadpoolctl`` (the ``verify`` / ``test`` extras) when it is installed: it finds every
   BLAS library loaded in the process (OpenBLAS, MKL, BLIS...) and limits each;
2. else through the thread-count functions of numpy's bundled OpenBLAS (``numpy.libs`` /
   ``numpy/.dylibs``), called with ctypes;
3. else (a BLAS neither can reach) the worker count is sized instead: ``W = cores // b``, ``b``
   the BLAS thread count the environment sets (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``,
   ``MKL_NUM_THREADS``), ``b = cores`` when it sets none. An explicit ``threads=`` or
   ``MICROFORGE_THREADS`` is then taken as it is.

The limit is process-wide while a run lasts (OpenBLAS's pthreads build has one thread count).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

import numpy  # loads the BLAS that the limiters look for

_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class _ThreadpoolctlLimiter:
    """Every BLAS library threadpoolctl finds in the process."""

    name = "threadpoolctl"

    def __init__(self) -> None:
        from threadpoolctl import ThreadpoolController

        self.controller = ThreadpoolController().select(user_api="blas")

    def current(self) -> int:
        counts = [lib.num_threads for lib in self.controller.lib_controllers]
        return max(counts, default=1)

    @contextlib.contextmanager
    def limit(self, n: int) -> Iterator[None]:
        with self.controller.limit(limits=n):
            yield


class _OpenBlasLimiter:
    """numpy's bundled OpenBLAS through its C API (``[scipy_]openblas_{get,set}_num_threads``)."""

    name = "openblas-ctypes"

    def __init__(self, lib: ctypes.CDLL, get, set_) -> None:
        self.lib, self._get, self._set = lib, get, set_

    @classmethod
    def find(cls) -> _OpenBlasLimiter | None:

        root = Path(numpy.__file__).resolve().parent
        for folder in (root.parent / "numpy.libs", root / ".dylibs"):
            for path in sorted(folder.glob("*openblas*")) if folder.is_dir() else ():
                try:
                    lib = ctypes.CDLL(str(path))
                except OSError:
                    continue
                for prefix in ("scipy_", ""):
                    for suffix in ("64_", "_64", ""):
                        get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                        set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
                        if get is not None and set_ is not None:
                            get.restype, get.argtypes = ctypes.c_int, []
                            set_.restype, set_.argtypes = None, [ctypes.c_int]
                            return cls(lib, get, set_)
        return None

    def current(self) -> int:
        return max(1, int(self._get()))

    @contextlib.contextmanager
    def limit(self, n: int) -> Iterator[None]:
        before = self.current()
        self._set(n)
        try:
            yield
        finally:
            self._set(before)


_LIMITER: list = []  # [limiter or None], found once


def find_limiter(use_threadpoolctl: bool = True):
    """A BLAS limiter: threadpoolctl's when installed (and ``use_threadpoolctl``), else the
    bundled OpenBLAS's, else None."""
    if use_threadpoolctl:
        try:
            return _ThreadpoolctlLimiter()
        except ImportError:
            pass
    try:
        return _OpenBlasLimiter.find()
    except (OSError, AttributeError, ImportError):
        return None


def limiter():
    """The process's BLAS limiter (:func:`find_limiter`, looked up once), or None."""
    if not _LIMITER:
        _LIMITER.append(find_limiter())
    return _LIMITER[0]


def environment_blas_threads(n_cores: int) -> int:
    """The BLAS thread count the environment asks for (the smallest set), else every core."""
    values = [int(v) for var in _ENV_VARS if (v := os.environ.get(var, "").strip()).isdigit()
              and int(v) > 0]
    return min(values) if values else n_cores


def default_workers(n_cores: int | None = None) -> int:
    """Worker threads when the user gives none: every core when BLAS can be limited during a run,
    else as many as leave room for the BLAS threads the environment allows."""
    n_cores = cores() if n_cores is None else n_cores
    if limiter() is not None:
        return n_cores
    return max(1, n_cores // environment_blas_threads(n_cores))


@contextlib.contextmanager
def limited() -> Iterator[None]:
    """BLAS limited to one thread while the block runs; nothing changes when it already uses
    one, or when no limiter is available (then ``default_workers`` left room for it)."""
    lim = limiter()
    if lim is None or lim.current() <= 1:
        yield
        return
    with lim.limit(1):
        yield


def description() -> str:
    """Which BLAS runs and how it is limited (threadpoolctl's view when installed)."""
    lim = limiter()
    how = "BLAS threads not controllable" if lim is None else f"limited via {lim.name}"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"{how} (install threadpoolctl to see which BLAS kernel runs)"
    infos = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
             f"({i.get('num_threads')} threads)"
             for i in threadpool_info() if i.get("user_api") == "blas"]
    return f"{', '.join(infos) or 'no BLAS found'}; {how}"
