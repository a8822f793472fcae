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

then ``compile --verify 2`` (the C backend on the host: emit, build, run two random inputs,
compare every output byte) on a sample of the accepted model mutants. Findings are written to
--findings (one file per input, with its traceback), ready to become corpus entries.

    PYTHONPATH=src:. python benchmarks/fuzz_campaign.py --count 100000 --seeds /tmp/fuzz_seeds

Mutant i of a parser is ``tests.builders.mutations.mutant(seed file i % n, seed (parser, i))``,
so any finding is reproduced from its number.
"""

from __future__ import annotations

import argparse
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


def run_one(parser: str, i: int, verify: bool) -> tuple[str, str]:
    """(class, detail) of mutant ``i``; with ``verify``, compile it with --verify 2 instead."""
    from tests.builders.fuzz_targets import exercise

    from microforge.errors import MicroforgeError

    _, data = make_input(parser, i)
    try:
        if verify:
            return _verify(data)
        return exercise(parser, data), ""
    except MicroforgeError as exc:
        return "reject", str(exc).splitlines()[0][:200]
    except MemoryError:
        return "memory", traceback.format_exc()
    except Exception:
        return "internal", traceback.format_exc()


def _verify(data: bytes) -> tuple[str, str]:
    from microforge.compiler import compile as compile_model
    from microforge.frontends import read_model

    graph = read_model(data)
    with tempfile.TemporaryDirectory() as tmp:
        report = compile_model(graph, Path(tmp) / "out", name="fuzz", verify=2)
    if report.failure:
        return "internal", f"verify failed: {report.failure}"
    return "accept", ""


def worker(conn, memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.environ["MICROFORGE_THREADS"] = "1"
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(run_one(*job))


class Pool:
    """Worker processes fed one job at a time; a worker past the timeout is killed (hang), one
    that dies is replaced (crash)."""

    def __init__(self, size: int, memory: int, timeout: float) -> None:
        self.memory, self.timeout = memory, timeout
        self.slots = [self._spawn() for _ in range(size)]

    def _spawn(self):
        parent, child = mp.Pipe()
        proc = mp.Process(target=worker, args=(child, self.memory), daemon=True)
        proc.start()
        child.close()
        return {"proc": proc, "conn": parent, "job": None, "start": 0.0}

    def run(self, jobs, on_result) -> None:
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
                elif now - slot["start"] > self.timeout:
                    result = ("hang", f"no answer after {self.timeout:g} s")
                if result is None:
                    continue
                if result[0] in ("crash", "hang"):
                    slot["proc"].kill()
                    slot["proc"].join()
                    slot = self.slots[k] = self._spawn()
                slot["job"] = None
                active -= 1
                on_result(job, result)
                active += self._feed(slot, jobs)

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
    ap.add_argument("--verify-sample", type=int, default=100,
                    help="accepted model mutants per parser compiled with --verify 2")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    ap.add_argument("--memory", type=int, default=3 << 30, help="address-space limit (bytes)")
    ap.add_argument("--minutes", type=float, default=0,
                    help="stop starting new mutants after this many minutes (0: no limit)")
    ap.add_argument("--findings", type=Path, default=Path("fuzz_findings"))
    args = ap.parse_args(argv)
    parsers = args.parsers.split(",")
    for p in parsers:
        _SEEDS[p] = [f.read_bytes() for f in seed_files(p, args.seeds)]
        print(f"{p}: {len(_SEEDS[p])} seed files", flush=True)
    mp.set_start_method("fork")
    pool = Pool(args.jobs, args.memory, args.timeout)
    table: dict[str, Counter] = {p: Counter() for p in parsers}
    accepted: dict[str, list[int]] = {p: [] for p in parsers}
    args.findings.mkdir(parents=True, exist_ok=True)
    started = time.time()
    deadline = started + 60 * args.minutes if args.minutes else float("inf")

    def on_result(job, result) -> None:
        parser, i, verify = job
        cls, detail = result
        table[parser][("verify " if verify else "") + cls] += 1
        if cls == "reject" and not verify and _guarded(detail):
            table[parser]["guarded"] += 1
        if cls == "accept" and not verify:
            accepted[parser].append(i)
        if cls not in ("accept", "reject"):
            _, data = make_input(parser, i)
            stem = args.findings / f"{parser}-{'verify-' if verify else ''}{i}-{cls}"
            stem.with_suffix(".bin").write_bytes(data)
            stem.with_suffix(".txt").write_text(detail)
        done = sum(sum(c[k] for k in CLASSES) for c in table.values())
        if done % 1000 == 0:
            print(f"{done:,} inputs, {time.time() - started:,.0f} s", flush=True)
            _print_table(table, time.time() - started, args.findings / "progress.md")

    def jobs():  # round robin over the parsers, so a time budget leaves every one a count
        for i in range(args.count):
            for p in parsers:
                if time.time() > deadline:
                    return
                yield p, i, False

    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID`: stop, and still print the table
    try:
        pool.run(jobs(), on_result)
        for p in parsers:
            if p != "wav" and accepted[p] and args.verify_sample:
                step = max(1, len(accepted[p]) // args.verify_sample)
                pool.run(((p, i, True) for i in accepted[p][::step][: args.verify_sample]),
                         on_result)
    except KeyboardInterrupt:
        print("interrupted: the table counts the inputs finished so far", flush=True)
    pool.close()
    _print_table(table, time.time() - started, args.findings / "table.md")
    return 0 if all(c[k] == 0 for c in table.values() for k in c
                    if k.split()[-1] not in ("accept", "reject")) else 1


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
    lines.append(f"\n{seconds / 60:,.1f} minutes")
    print("\n" + "\n".join(lines), flush=True)
    if path is not None:
        path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
