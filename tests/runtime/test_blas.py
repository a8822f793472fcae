"""Worker threads x BLAS threads stay within the cores: BLAS pinned to one thread during a run
with threadpoolctl or with numpy's bundled OpenBLAS through ctypes, and (no limiter) the worker
pool sized around the environment's BLAS threads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microforge.runtime import blas
from microforge.runtime.interpreter import Executor
from tests.builders.graphs import conv_bn


def _bundled_openblas() -> bool:
    root = Path(np.__file__).resolve().parent
    return any(any(d.glob("*openblas*")) for d in (root.parent / "numpy.libs", root / ".dylibs")
               if d.is_dir())


def _blas_threads_inside_run(monkeypatch, limiter, threads: int) -> tuple[list[int], int]:
    """BLAS thread counts seen by the kernels during a run started with BLAS at 4 threads, and
    the count after the run."""
    monkeypatch.setattr(blas, "_LIMITER", [limiter])
    executor = Executor(conv_bn(), threads=threads)
    seen: list[int] = []
    eval_step = Executor._eval

    def recording(step, args):
        seen.append(limiter.current())
        return eval_step(step, args)

    monkeypatch.setattr(Executor, "_eval", staticmethod(recording))
    x = np.random.default_rng(0).normal(size=(1024, 1, 5, 5, 4)).astype(np.float32)
    with limiter.limit(4):
        executor.run([x])
        after = limiter.current()
    return seen, after


def test_threadpoolctl_pins_blas_to_the_cores_per_worker(monkeypatch):
    pytest.importorskip("threadpoolctl", reason="needs threadpoolctl: pip install 'microforge[test]'")
    limiter = blas.find_limiter(use_threadpoolctl=True)
    assert limiter.name == "threadpoolctl"
    seen, after = _blas_threads_inside_run(monkeypatch, limiter, threads=2)
    assert seen and set(seen) == {1}
    assert after > max(seen)  # restored after the run


def test_bundled_openblas_through_ctypes_without_threadpoolctl(monkeypatch):
    limiter = blas.find_limiter(use_threadpoolctl=False)
    if not _bundled_openblas():  # e.g. a distribution's numpy on a system BLAS: workers are sized
        assert limiter is None
        return
    assert limiter.name == "openblas-ctypes"
    seen, after = _blas_threads_inside_run(monkeypatch, limiter, threads=2)
    assert seen and set(seen) == {1}
    assert after > max(seen)


def test_a_single_worker_runs_blas_on_one_thread_too(monkeypatch):
    limiter = blas.find_limiter()
    if limiter is None:  # no BLAS within reach: nothing to check
        return
    seen, after = _blas_threads_inside_run(monkeypatch, limiter, threads=1)
    assert set(seen) == {1} and after == 4


def test_tiny_runs_leave_blas_alone(monkeypatch):
    limiter = blas.find_limiter()
    if limiter is None:
        return
    monkeypatch.setattr(blas, "_LIMITER", [limiter])
    executor = Executor(conv_bn(), threads=2)
    monkeypatch.setattr(blas, "limited", None)  # calling it would fail the run
    executor.run([np.zeros((2, 1, 5, 5, 4), np.float32)])


def test_without_a_limiter_the_pool_leaves_room_for_blas(monkeypatch):
    monkeypatch.setattr(blas, "_LIMITER", [None])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MICROFORGE_THREADS"):
        monkeypatch.delenv(var, raising=False)
    assert blas.default_workers(4) == 1  # BLAS takes every core: one worker
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert blas.default_workers(4) == 2
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert blas.default_workers(4) == 4
    monkeypatch.setattr(blas, "cores", lambda: 4)
    assert Executor(conv_bn()).threads == 4
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert Executor(conv_bn()).threads == 1


def test_explicit_threads_and_environment_are_honoured(monkeypatch):
    monkeypatch.setattr(blas, "cores", lambda: 4)
    monkeypatch.setenv("MICROFORGE_THREADS", "3")
    assert Executor(conv_bn()).threads == 3
    assert Executor(conv_bn(), threads=5).threads == 5
    monkeypatch.delenv("MICROFORGE_THREADS")
    monkeypatch.setattr(blas, "_LIMITER", [object()])  # any limiter: every core gets a worker
    assert Executor(conv_bn()).threads == 4


def test_description_names_the_blas():
    text = blas.description()
    assert "limited via" in text or "not controllable" in text
