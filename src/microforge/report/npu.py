"""What an Ethos-U compile found out, per original operator and in total, as a dict (the
``--json`` keys) and as terminal text. Used by ``inspect --target`` (before compiling) and by
``compile --target ethos-u*``."""

from __future__ import annotations

from microforge.backends.ethos_u import NpuModel
from microforge.report.tflm_resolver import resolver_method, resolver_snippet

NPU_NOT_EXECUTED = ("NPU operators: not checked; `compile --verify N` runs them in microforge's "
                    "command-stream emulator (emulated, not silicon)")


def tflm_resolver(npu: NpuModel) -> list[str]:
    """The ``MicroMutableOpResolver`` calls Vela's .tflite needs (``AddEthosU`` for the NPU)."""
    methods: list[str] = []
    for op in npu.optimized.main.operators:
        method = resolver_method(op.opcode, op.custom)
        if method is not None and method not in methods:
            methods.append(method)
    return methods


def tflm_arena_estimate(npu: NpuModel) -> int:
    """TFLM's arena for Vela's .tflite, estimated: the non-persistent head (Vela's offline-planned
    region at offset 0 plus the CPU-only tensors planned around it) and the variable tensors
    (TFLM keeps them in the persistent tail). TFLM's per-operator persistent structures are not
    included: the tflite-micro package has no Ethos-U kernel, so it cannot load the model to
    measure them."""
    return npu.memory.arena + npu.memory.state


def npu_dict(npu: NpuModel, code_bytes: int = 0, ram_bytes: int | None = None) -> dict:
    """The ``--json`` keys of an Ethos-U compile (``code_bytes``: the C library's code, when
    built; ``ram_bytes``: its measured RAM, else the planned arena and state)."""
    split = npu.flash_split()
    clock = npu.vela.clock_hz
    sram = ram_bytes if ram_bytes is not None else npu.memory.arena + npu.memory.state
    return {
        "npu_ops": npu.npu_ops,
        "cpu_ops": npu.cpu_ops,
        "sram_bytes": sram,
        "flash_bytes": sum(split.values()) + code_bytes,
        "npu_cycles_estimate": npu.npu_cycles,
        "cpu_fallback": npu.cpu_fallback,
        "npu": {
            "accelerator": npu.config.accelerator, "system_config": npu.vela.system_config,
            "memory_mode": npu.vela.memory_mode, "clock_hz": clock,
            "npu_time_us_estimate": round(npu.npu_cycles / clock * 1e6, 3),
            "npu_only_cycles": npu.vela.npu_cycles,
            "subgraphs": len(npu.subgraph_ops()),
            "flash": {**split, "code": code_bytes},
            "sram": {"vela_region": npu.memory.region, "arena": npu.memory.arena,
                     "state": npu.memory.state},
            "tflm_resolver": tflm_resolver(npu),
            "tflm_arena_bytes_estimate": tflm_arena_estimate(npu),
            "per_layer": [{**p.to_dict(), "time_us": round(p.cycles / clock * 1e6, 3)}
                          for p in npu.ops],
            "verification": NPU_NOT_EXECUTED,
        },
    }


def render_npu(d: dict) -> str:
    """Placement, per-layer estimates, memory and the TFLM recipe (``npu_dict``) as text."""
    info = d["npu"]
    lines = [f"{info['accelerator']} ({info['system_config']}, {info['memory_mode']}, "
             f"{info['clock_hz'] / 1e6:g} MHz): {d['npu_ops']} operators on the NPU in "
             f"{info['subgraphs']} subgraph(s), {d['cpu_ops']} on the CPU",
             f"  {'#':>3}  {'operator':<24} {'target':<6} {'cycles':>10} {'time us':>9}  note"]
    for p in info["per_layer"]:
        note = p["reason"] if p["target"] == "cpu" else p["name"][:48]
        cycles = f"{p['cycles']:,}" if p["target"] == "npu" else "-"
        time = f"{p['time_us']:.2f}" if p["target"] == "npu" else "-"
        lines.append(f"  {p['index']:>3}  {p['op']:<24} {p['target']:<6} {cycles:>10} {time:>9}  {note}")
    flash, sram = info["flash"], info["sram"]
    lines += [
        f"  NPU estimate (Vela's performance model): {d['npu_cycles_estimate']:,} cycles = "
        f"{info['npu_time_us_estimate']:,.1f} us",
        f"  flash {d['flash_bytes']:,} B = command stream {flash['command_stream']:,} + encoded "
        f"weights {flash['encoded_weights']:,} + CPU constants {flash['cpu_constants']:,} + code "
        f"{flash['code']:,}",
        f"  SRAM  {d['sram_bytes']:,} B (arena {sram['arena']:,} incl. Vela's region "
        f"{sram['vela_region']:,}; state {sram['state']:,})",
        f"  TFLM: arena ~{info['tflm_arena_bytes_estimate']:,} B (estimate, without TFLM's "
        "persistent per-operator data); resolver:",
        *["    " + s for s in resolver_snippet(info["tflm_resolver"]).splitlines()],
        f"  {info['verification']}",
    ]
    return "\n".join(lines)


def tflm_recipe(npu: NpuModel, name: str) -> str:
    """``NAME_tflm.txt``: how to run Vela's .tflite under TFLM with the Ethos-U kernel."""
    arena = tflm_arena_estimate(npu)
    return "\n".join([
        f"// {name}_vela.tflite for TFLM with the Ethos-U kernel ({npu.config.accelerator}, "
        f"{npu.vela.system_config}, {npu.vela.memory_mode}); written by microforge.",
        resolver_snippet(tflm_resolver(npu)),
        f"// arena: about {arena} bytes (Vela's offline-planned region {npu.memory.region} B, CPU "
        f"tensors and {npu.memory.state} B of variables), plus TFLM's persistent per-operator data",
        f"constexpr size_t kTensorArenaSize = {arena};  // add TFLM's persistent data: check "
        "MicroInterpreter::arena_used_bytes() on the target",
        "",
    ])
