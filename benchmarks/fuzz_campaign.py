"""The long fuzz campaign of issue 15: N byte-level mutants of every seed file per parser
(TFLite, ONNX, Keras, WAV), each run in a worker process with a timeout and a memory limit, and
classified as

    accept    read, inspected, prepared and run (a model) / read (a WAV file)
    reject    a clean one-line MicroforgeError ("of which guarded": from a catch-all that turned
              a Python error into a ModelError, not from a check naming the field)
    internal  any other exception (an IndexError, a ValueError ...): a bug
    hang      the input ran past --timeout seconds (the worker is killed)
    crash     the worker process died (a segfault in a native library)
    memory    MemoryError under the --memory limit (address space)

and ``compile --verify 2`` (the C backend on the host: emit, build, run two random inputs,
compare every output byte) on a sample of the accepted model mutants, taken as the run goes.
Findings are written to --findings (one file per input, with its traceback), ready to become
corpus entries; --findings/progress.md holds the table so far.

    PYTHONPATH=src:. python benchmarks/fuzz_seeds.py /tmp/fuzz_seeds
    PYTHONPATH=src:. python benchmarks/fuzz_campaign.py --count 100000 --seeds /tmp/fuzz_seeds

The seeds are the files up to 50 KB (``fuzz_targets.seed_files(small=True)``; --all-seeds adds
person_detect and dtln). WAV runs first, then the model parsers in round robin, so a time budget
(--minutes) leaves each a count.

Mutant i of a parser is ``tests.builders.mutations.mutant(seed file i % n, seed (parser, i))``,
so any finding is reproduced from its number.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from multiprocessing.connection import wait
from pathlib import Path

CLASSES = ("accept", "reject", "internal", "hang", "crash", "memory")
_SEEDS: dict[str, list[bytes]] = {}


def make_input(parser: str, i: int) -> tuple[str, bytes]:
    from tests.builders.fuzz_targets import PARSERS
    from tests.builders.mutations import mutant

    seeds = _SEEDS[parser]
    return mutant(seeds[i % len(seeds)], (PARSERS.index(parser), i), seeds)


def run_one(parser: str, i: int, mode: str) -> tuple[str, str]:
    """(class, detail) of mutant ``i``. ``mode``: "run" (exercised, a Keras HDF5 read in this
    worker: :func:`_hdf5_in_worker`), "fork" (exercised exactly as the product does it, the HDF5
    read in a forked child) or "verify" (compiled with --verify 2)."""
    from tests.builders.fuzz_targets import exercise

    from microforge.errors import MicroforgeError

    _, data = make_input(parser, i)
    try:
        if mode == "verify":
            return _verify(data)
        with _hdf5_reading(mode):
            return exercise(parser, data), ""
    except MicroforgeError as exc:
        return "reject", str(exc).splitlines()[0][:200]
    except MemoryError:
        return "memory", traceback.format_exc()
    except Exception:
        return "internal", traceback.format_exc()


_IN_HDF5 = None  # this worker's shared flag: 1 while libhdf5 reads a mutant in the worker itself


@contextlib.contextmanager
def _hdf5_reading(mode: str):
    """In "run" mode, the Keras reader's HDF5 step runs in this worker instead of a child forked
    per file (a fork costs 10-20 ms here, more than the read). The worker is itself a process with
    a timeout and a memory limit: the same code turns the read's exceptions into the same payload
    and ModelError (``isolate.child_payload`` / ``decode_payload``), under the same address-space
    limit; a worker that crashes or hangs while the flag is up is not counted but re-run in "fork"
    mode, i.e. through the product's own isolation, whose answer is the one counted.

    It is not equivalent in one respect, measured: libhdf5 can corrupt the heap on a hostile file
    without crashing, and a later input in the same worker then dies ("corrupted double-linked
    list" in an ONNX mutant that runs clean on its own). The product's child exits after one file,
    so the campaign's default is the product's fork for every Keras mutant (--fork-every 1)."""
    from microforge.frontends.keras import container

    if mode != "run":
        yield
        return
    saved = container.in_child
    container.in_child = _hdf5_in_worker
    try:
        yield
    finally:
        container.in_child = saved


def _hdf5_in_worker(read, data: bytes, what: str):
    from microforge.frontends.keras import isolate

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = isolate.child_memory_limit()
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    _IN_HDF5.value = 1
    try:
        payload = isolate.child_payload(read, data)
    finally:
        _IN_HDF5.value = 0
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return isolate.decode_payload(payload, what)


def _verify(data: bytes) -> tuple[str, str]:
    from microforge.compiler import compile as compile_model
    from microforge.frontends import read_model

    graph = read_model(data)
    with tempfile.TemporaryDirectory() as tmp:
        report = compile_model(graph, Path(tmp) / "out", name="fuzz", verify=2)
    if report.failure:
        return "internal", f"verify failed: {report.failure}"
    return "accept", ""


def worker(conn, memory: int, flag) -> None:
    global _IN_HDF5
    _IN_HDF5 = flag
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.environ["MICROFORGE_THREADS"] = "1"
    _warm_up()
    conn.send("ready")
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(run_one(*job))


def _warm_up() -> None:
    """Import what the parsers need (onnx, h5py, the compiler) before the first timed input: on a
    loaded machine the imports alone can pass the timeout."""
    from tests.builders.fuzz_targets import exercise

    import microforge.compiler  # noqa: F401
    from microforge.errors import MicroforgeError

    for parser, seeds in _SEEDS.items():
        for mode in ("run", "fork"):
            try:
                with _hdf5_reading(mode):
                    exercise(parser, seeds[0])
            except MicroforgeError:
                pass


class Pool:
    """Worker processes fed one job at a time; a worker past the timeout is killed (hang), one
    that dies is replaced (crash). A job whose worker crashed or hung inside a Keras HDF5 read done
    in the worker is handed to ``on_recheck`` instead (see :func:`_hdf5_reading`)."""

    def __init__(self, size: int, memory: int, timeout: float) -> None:
        self.memory, self.timeout = memory, timeout
        self.slots = [self._spawn() for _ in range(size)]

    def _spawn(self):
        parent, child = mp.Pipe()
        flag = mp.RawValue("i", 0)
        proc = mp.Process(target=worker, args=(child, self.memory, flag), daemon=True)
        proc.start()
        child.close()
        if not parent.poll(600) or parent.recv() != "ready":
            raise RuntimeError("a fuzz worker did not start")
        return {"proc": proc, "conn": parent, "job": None, "start": 0.0, "flag": flag}

    def run(self, jobs, on_result, on_recheck=None) -> None:
        jobs = iter(jobs)
        active = 0
        for slot in self.slots:
            active += self._feed(slot, jobs)
        while active:
            ready = wait([s["conn"] for s in self.slots if s["job"] is not None], timeout=1.0)
            now = time.monotonic()
            for k, slot in enumerate(self.slots):
                if slot["job"] is None:
                    continue
                job, result = slot["job"], None
                if slot["conn"] in ready:
                    try:
                        result = slot["conn"].recv()
                    except (EOFError, OSError):
                        slot["proc"].join(5)
                        result = ("crash", f"worker died, exit code {slot['proc'].exitcode}")
                elif now - slot["start"] > self._timeout(job):
                    result = ("hang", f"no answer after {self._timeout(job):g} s")
                if result is None:
                    continue
                in_hdf5 = bool(slot["flag"].value)
                if result[0] in ("crash", "hang"):
                    slot["proc"].kill()
                    slot["proc"].join()
                    slot = self.slots[k] = self._spawn()
                slot["job"] = None
                active -= 1
                if result[0] in ("crash", "hang") and in_hdf5 and on_recheck is not None:
                    on_recheck(job, result)
                else:
                    on_result(job, result)
                active += self._feed(slot, jobs)

    def _timeout(self, job) -> float:
        """A "fork" job may take the product's own HDF5 time limit before it answers; a "verify"
        job builds C."""
        from microforge.frontends.keras.isolate import TIMEOUT_S

        return self.timeout + {"fork": TIMEOUT_S, "verify": 5 * self.timeout}.get(job[2], 0)

    def _feed(self, slot, jobs) -> int:
        job = next(jobs, None)
        if job is None:
            return 0
        slot["job"], slot["start"] = job, time.monotonic()
        slot["conn"].send(job)
        return 1

    def close(self) -> None:
        for slot in self.slots:
            if slot["job"] is not None:  # interrupted mid-input
                slot["proc"].kill()
            else:
                slot["conn"].send(None)
            slot["proc"].join(5)


def main(argv: list[str] | None = None) -> int:
    from tests.builders.fuzz_targets import PARSERS, seed_files

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000, help="mutants per parser")
    ap.add_argument("--parsers", default=",".join(PARSERS))
    ap.add_argument("--seeds", type=Path, default=None, help="benchmarks/fuzz_seeds.py's folder")
    ap.add_argument("--all-seeds", action="store_true",
                    help="also the big shared models (person_detect, dtln: 0.3 MB, seconds a run)")
    ap.add_argument("--verify-sample", type=int, default=100,
                    help="accepted model mutants per parser compiled with --verify 2")
    ap.add_argument("--fork-every", type=int, default=1,
                    help="every n-th Keras mutant reads its HDF5 in a forked child, as the product "
                         "does; the others in the worker (_hdf5_reading), which is faster but lets "
                         "libhdf5 corrupt the worker's heap for later inputs")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    ap.add_argument("--memory", type=int, default=3 << 30, help="address-space limit (bytes)")
    ap.add_argument("--minutes", type=float, default=0,
                    help="stop starting new mutants after this many minutes (0: no limit)")
    ap.add_argument("--findings", type=Path, default=Path("fuzz_findings"))
    args = ap.parse_args(argv)
    parsers = args.parsers.split(",")
    for p in parsers:
        files = seed_files(p, args.seeds, small=not args.all_seeds)
        _SEEDS[p] = [f.read_bytes() for f in files]
        print(f"{p}: {len(files)} seed files, {sum(map(len, _SEEDS[p])):,} bytes: "
              + " ".join(f.name for f in files), flush=True)
    mp.set_start_method("fork")
    pool = Pool(args.jobs, args.memory, args.timeout)
    table: dict[str, Counter] = {p: Counter() for p in parsers}
    args.findings.mkdir(parents=True, exist_ok=True)
    started = time.time()
    deadline = started + 60 * args.minutes if args.minutes else float("inf")
    # The verify sample is taken as the campaign goes: one accepted mutant of each block of
    # count / verify_sample mutants, so a run cut short still has its share.
    block = max(1, args.count // args.verify_sample) if args.verify_sample else 0
    sampled: set[tuple[str, int]] = set()
    pending: list[tuple[str, int, str]] = []
    rechecks: list[tuple[str, int, str]] = []

    def on_result(job, result) -> None:
        parser, i, mode = job
        cls, detail = result
        verify = mode == "verify"
        table[parser][("verify " if verify else "") + cls] += 1
        if mode == "fork":
            table[parser]["forked"] += 1
        if cls == "reject" and not verify and _guarded(detail):
            table[parser]["guarded"] += 1
        if cls == "accept" and not verify and parser != "wav" and block:
            key = (parser, i // block)
            # block b takes a mutant of seed b % n, so every seed (the int8 ones, which the C
            # backend builds, as well as the float ones it refuses) has its share of the sample
            if key not in sampled and i % len(_SEEDS[parser]) == key[1] % len(_SEEDS[parser]):
                sampled.add(key)
                pending.append((parser, i, "verify"))
        if cls not in ("accept", "reject"):
            _, data = make_input(parser, i)
            stem = args.findings / f"{parser}-{'verify-' if verify else ''}{i}-{cls}"
            stem.with_suffix(".bin").write_bytes(data)
            stem.with_suffix(".txt").write_text(detail)
        done = sum(sum(c[k] for k in CLASSES) for c in table.values())
        if done % 1000 == 0:
            print(f"{done:,} inputs, {time.time() - started:,.0f} s", flush=True)
            _print_table(table, time.time() - started, args.findings / "progress.md")

    def on_recheck(job, result) -> None:
        parser, i, _ = job
        table[parser]["rechecked"] += 1
        print(f"{parser} {i}: {result[0]} inside libhdf5 in the worker; re-run in a forked child",
              flush=True)
        rechecks.append((parser, i, "fork"))

    def jobs():  # WAV first (a millisecond an input), then round robin over the model parsers,
        # so a time budget leaves every one a count
        cheap = [p for p in parsers if p == "wav"]
        for i in range(args.count if cheap else 0):
            if time.time() > deadline:
                return
            yield "wav", i, "run"
        for i in range(args.count):
            for p in (p for p in parsers if p not in cheap):
                while pending:
                    yield pending.pop(0)
                while rechecks:
                    yield rechecks.pop(0)
                if time.time() > deadline:
                    return
                forked = p == "keras" and args.fork_every and i % args.fork_every == 0
                yield p, i, "fork" if forked else "run"
        yield from _drain(pending, rechecks)

    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID`: stop, and still print the table
    try:
        pool.run(jobs(), on_result, on_recheck)
        pool.run(_drain(pending, rechecks), on_result, on_recheck)
    except KeyboardInterrupt:
        print("interrupted: the table counts the inputs finished so far", flush=True)
    pool.close()
    _print_table(table, time.time() - started, args.findings / "table.md")
    return 0 if all(c[k] == 0 for c in table.values() for k in c
                    if k.split()[-1] not in ("accept", "reject", "guarded", "forked", "rechecked")
                    ) else 1


def _drain(*queues: list):
    """Jobs still queued (verify samples of the last results, re-checks) until none is left."""
    while any(queues):
        for q in queues:
            while q:
                yield q.pop(0)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _guarded(message: str) -> bool:
    """A reject that came from a catch-all (a reader's or a kernel's guard turning a Python error
    into a ModelError) rather than from a check that names the field."""
    return "its tensors or options are inconsistent" in message or (
        "corrupt" in message and "Error:" in message)


def _print_table(table: dict[str, Counter], seconds: float, path: Path | None = None) -> None:
    head = ["parser", "inputs", *CLASSES, "of which guarded", "verify accept", "verify reject",
            "verify other"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p, c in table.items():
        n = sum(c[k] for k in CLASSES)
        other = sum(v for k, v in c.items() if k.startswith("verify") and
                    k not in ("verify accept", "verify reject"))
        row = [p, f"{n:,}", *(f"{c[k]:,}" for k in CLASSES), f"{c['guarded']:,}",
               f"{c['verify accept']:,}", f"{c['verify reject']:,}", f"{other:,}"]
        lines.append("| " + " | ".join(row) + " |")
    n = sum(c[k] for c in table.values() for k in CLASSES)
    lines.append(f"\n{seconds / 60:,.1f} minutes, {n / max(seconds, 1e-9):,.1f} inputs/s")
    for p, c in table.items():
        if c["forked"] or c["rechecked"]:
            lines.append(f"{p}: {c['forked']:,} inputs read their HDF5 in a forked child as the "
                         f"product does; {c['rechecked']:,} re-run that way after a crash or hang "
                         "inside libhdf5 in the worker")
    print("\n" + "\n".join(lines), flush=True)
    if path is not None:
        path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
