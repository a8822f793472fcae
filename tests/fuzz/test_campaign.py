"""The long campaign's bookkeeping (``benchmarks/fuzz_campaign.py``): its cheaper Keras HDF5 path
(the read in the worker) answers as the product's forked child does, and a worker that libhdf5
crashes is not counted as a crash but re-run through the product's own fork."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from microforge.errors import MicroforgeError
from tests.builders.fuzz_targets import exercise

HERE = Path(__file__).resolve().parent
SEED = HERE / "seeds" / "zoo.tf_keras.h5"
SEGFAULT = HERE / "corpus" / "keras" / "libhdf5-segfault.h5"


@pytest.fixture
def campaign(monkeypatch):
    pytest.importorskip("h5py", reason="h5py not installed (optional extra [keras])")
    import benchmarks.fuzz_campaign as fc

    monkeypatch.setattr(fc, "_IN_HDF5", mp.RawValue("i", 0))
    monkeypatch.setattr(fc, "_SEEDS", {"keras": [SEED.read_bytes()]})
    return fc


def _answer(fc, mode: str, data: bytes) -> tuple[str, str]:
    try:
        with fc._hdf5_reading(mode):
            return exercise("keras", data), ""
    except MicroforgeError as exc:
        return "reject", str(exc)


@pytest.mark.parametrize("name", ["seed", "symbol-table-runtimeerror.h5", "truncated"])
def test_the_read_in_the_worker_answers_as_the_fork(campaign, name):
    data = SEED.read_bytes()
    if name == "truncated":
        data = data[: len(data) // 2]
    elif name != "seed":
        data = (HERE / "corpus" / "keras" / name).read_bytes()
    assert _answer(campaign, "run", data) == _answer(campaign, "fork", data)
    assert campaign._IN_HDF5.value == 0


def test_a_libhdf5_crash_in_the_worker_is_re_run_through_the_fork(campaign, monkeypatch):
    monkeypatch.setattr(campaign, "make_input", lambda parser, i: ("file", SEGFAULT.read_bytes()))
    mp.set_start_method("fork", force=True)
    pool = campaign.Pool(1, 3 << 30, 60.0)
    results, rechecks = [], []
    try:
        pool.run(iter([("keras", 0, "run")]), lambda job, r: results.append((job, r)),
                 lambda job, r: rechecks.append((job, r)))
        assert results == [] and [(job, r[0]) for job, r in rechecks] == [(("keras", 0, "run"), "crash")]
        pool.run(iter([("keras", 0, "fork")]), lambda job, r: results.append((job, r)))
    finally:
        pool.close()
    [(job, (cls, detail))] = results
    assert cls == "reject" and "libhdf5 crashed" in detail
