"""Vela, Arm's Ethos-U compiler, called as a library (no subprocess shell).

``run_vela`` does what ``vela MODEL --accelerator-config ... --show-cpu-operations`` does in
Vela 4.x/5.x: it builds ``ArchitectureFeatures`` from the system configuration and memory mode
(Vela's own ``vela.ini``), hands the model bytes to Vela's compiler core (``ethosu.regor``) with the
options ``vela.main`` would pass, and keeps what Vela found out: the optimized ``.tflite``, its
operator database (which original operator became which NPU pass, and each pass's cycle estimate)
and its performance report. Vela prints its reasons for every CPU operator on the process's
standard output; they are captured at the file-descriptor level and parsed (``placement.py``).
Results are cached per (model bytes, configuration) for the life of the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from microforge.errors import InputError, ModelError, ToolError

#: Accelerator configurations Vela 5 knows; ``accelerators()`` asks the installed Vela.
KNOWN_ACCELERATORS = (
    "ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256",
    "ethos-u65-256", "ethos-u65-512",
    "ethos-u85-128", "ethos-u85-256", "ethos-u85-512", "ethos-u85-1024", "ethos-u85-2048",
)
DEFAULT_CONFIG = "internal-default"  # Vela's "pick the default for this accelerator"
MISSING_VELA = "the Ethos-U target needs Vela: pip install 'microforge[npu]'"


@dataclass(frozen=True)
class VelaConfig:
    """One Vela compilation setting: ``--accelerator-config``, ``--system-config``,
    ``--memory-mode`` (Vela's ``internal-default`` picks its default for the accelerator)."""

    accelerator: str = "ethos-u55-128"
    system_config: str = DEFAULT_CONFIG
    memory_mode: str = DEFAULT_CONFIG


@dataclass
class VelaOutput:
    """What one Vela run produced (raw: ``placement.py`` turns it into per-operator rows)."""

    config: VelaConfig
    system_config: str  # the names Vela resolved ``internal-default`` to
    memory_mode: str
    clock_hz: float
    macs_per_cycle: int
    tflite: bytes  # the Vela-optimized model
    tables: dict[str, tuple[list[str], list[list[str]]]]  # Vela's operator database
    npu_cycles: int
    total_cycles: int
    cpu_ops: int
    npu_ops: int
    encoded_weights: int
    original_weights: int
    staging_area: str
    peaks: dict[str, int] = field(default_factory=dict)  # memory name -> peak bytes
    log: str = ""  # what Vela printed (its CPU-operator warnings among it)


def _vela():
    try:
        from ethosu import regor
        from ethosu.vela import architecture_features
    except ImportError:
        raise ToolError(MISSING_VELA) from None
    return regor, architecture_features


def accelerators() -> list[str]:
    """The accelerator configurations the installed Vela accepts."""
    _, af = _vela()
    return list(af.Accelerator.member_list())


@contextlib.contextmanager
def _stdout_captured(into: list[str]) -> Iterator[None]:
    """Capture file descriptor 1 (Vela's C++ core prints there, not through ``sys.stdout``)."""
    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    libc.fflush(None)
    saved = os.dup(1)
    py = io.StringIO()
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            with contextlib.redirect_stdout(py):
                yield
        finally:
            libc.fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            into.append(py.getvalue() + tmp.read().decode("utf-8", "replace"))


def _options(arena_cache_size: int) -> str:
    """The compiler options ``vela.main`` passes to the core for a default TFLite compile with
    ``--show-cpu-operations`` (which turns on the operator database)."""
    return (
        "[compiler]\nenable_db=true\noutput_format=TFLite\ncop_format=COP1\n"
        "[scheduler]\noptimize=Performance\n"
        f"arena_size_limit={arena_cache_size}\ndisable_feature=\n"
        "cpu_tensor_alignment=16\ntensor_allocator=HillClimb\n"
        "[graph]\nsoftmax_int16_neg_exp_range=10.0\n"
    )


_CACHE: dict[tuple[str, VelaConfig], VelaOutput] = {}


def run_vela(model: bytes, config: VelaConfig) -> VelaOutput:
    """Compile int8/int16 TFLite ``model`` bytes with Vela for ``config``. Vela's errors, an
    accelerator it does not know and a model it rejects are one-line ``ModelError``/``InputError``."""
    key = (hashlib.sha256(model).hexdigest(), config)
    if key in _CACHE:
        return _CACHE[key]
    regor, af = _vela()
    if len(model) < 8 or model[4:8] != b"TFL3":  # Vela's core crashes on bytes that are not
        raise ModelError("Vela compiles .tflite models only: these bytes are not one")
    known = list(af.Accelerator.member_list())
    if config.accelerator not in known:
        raise InputError(f"Vela does not know the accelerator {config.accelerator!r} "
                         f"(the installed Vela supports {', '.join(known)})")
    log: list[str] = []
    try:
        with _stdout_captured(log):
            arch = af.ArchitectureFeatures(
                vela_config_files=None, system_config=config.system_config,
                memory_mode=config.memory_mode, accelerator_config=config.accelerator,
                max_blockdep=af.ArchitectureFeatures.MAX_BLOCKDEP, verbose_config=False,
                arena_cache_size=None)
            sysconfig = (f"[architecture]\nmacs={arch.num_macs_per_cycle}\ncores={arch.ncores}\n"
                         f"[vela]\nsystem_config_name={arch.system_config}\n"
                         f"memory_mode_name={arch.memory_mode}\n")
            for path in arch.vela_config_files:
                with open(path, encoding="utf-8") as f:
                    sysconfig += f.read()
            core = "".join(part.capitalize() for part in config.accelerator.split("-")[:-1])
            compiled = regor.compile(core, model, "TFLITE", sysconfig,
                                     options=_options(arch.arena_cache_size), verbose=False)
    except Exception as e:  # Vela raises its own VelaError, ValueError, RuntimeError, ...
        text = (getattr(e, "data", None) or str(e) or type(e).__name__).strip()
        line = " ".join(text.split())
        if "config" in line.lower() or "memory-mode" in line.lower():
            raise InputError(f"Vela configuration error for {config.accelerator}: {line}") from None
        raise ModelError(f"Vela rejected the model for {config.accelerator}: {line}") from None
    report = compiled.perf_report
    tables = {name: (list(t.header), [list(r) for r in t.data])
              for name, t in compiled.opt_database.tables.items() if not name.startswith("perf_debug")}
    out = VelaOutput(
        config=config, system_config=arch.system_config, memory_mode=arch.memory_mode,
        clock_hz=float(arch.core_clock), macs_per_cycle=int(arch.num_macs_per_cycle),
        tflite=bytes(compiled.model), tables=tables, npu_cycles=int(report.npuCycles),
        total_cycles=int(report.totalCycles), cpu_ops=int(report.cpuOps), npu_ops=int(report.npuOps),
        encoded_weights=int(report.encodedWeights), original_weights=int(report.originalWeights),
        staging_area=str(report.stagingMemoryArea),
        peaks={str(k): int(m.peakUsage) for k, m in report.memories.items()},
        log="".join(log),
    )
    _CACHE[key] = out
    return out
