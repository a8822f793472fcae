"""``microforge compile``'s report as terminal text (``render_compile``) or JSON (``compile_json``)."""

from __future__ import annotations

import json

from microforge.backends.base import CompileReport
from microforge.report.npu import render_npu
from microforge.report.text import human


def compile_json(r: CompileReport) -> str:
    return json.dumps(r.to_dict(), indent=2)


def _tflm_line(r: CompileReport) -> list[str]:
    if r.tflm_arena_bytes is None:
        return []
    ratio = r.ram_with_io_bytes / r.tflm_arena_bytes if r.tflm_arena_bytes else 0
    return [f"  TFLM arena {r.tflm_arena_bytes:,} B (holds the input and output tensors too): "
            f"microforge RAM + the caller's I/O buffers ({r.io_bytes:,} B) = "
            f"{r.ram_with_io_bytes:,} B, {ratio:.2f}x"]


def _verify_line(r: CompileReport, where: str) -> list[str]:
    if r.differing_bytes is None:
        return []
    status = "bit-exact" if r.differing_bytes == 0 else "MISMATCH"
    return [f"  verify {r.verified or 0} random inputs{where} vs the Python runtime: {status} "
            f"({r.differing_bytes} differing bytes)"]


def _patch_lines(r: CompileReport) -> list[str]:
    """One line per patch stage: the operators run band by band and what recomputing costs."""
    lines = []
    for s in r.patch_stages:
        share = s["extra_macs"] / r.macs if r.macs else 0
        fc = s.get("fully_connected")
        fused = f", fused with the FULLY_CONNECTED {fc} it feeds" if fc is not None else ""
        lines.append(
            f"         patch stage: operators {s['first']}-{s['last']}{fused} in {s['bands']} bands "
            f"of {s['rows_per_band']} output rows ({s['scratch_bytes']:,} B of band buffers"
            f"{', rows kept between bands' if s.get('retains_rows') else ''}); "
            f"recomputes {s['extra_macs']:,} MACs (+{share:.1%} of the model)")
    return lines


def _host_lines(r: CompileReport) -> list[str]:
    return [
        f"  RAM    {r.ram_bytes:>10,} B  = arena {r.arena_bytes:,} + other static "
        f"{r.static_ram_bytes - r.arena_bytes:,} + stack ~{r.stack_bytes_estimate:,}",
        f"         arena plan: {r.planner}; lower bound {r.arena_lower_bound_bytes:,} B, "
        f"TFLM's greedy strategy on the same buffers {r.arena_tflm_strategy_bytes:,} B",
        *_patch_lines(r),
        f"  flash  {r.const_bytes + r.code_bytes:>10,} B  = constants "
        f"{r.const_bytes:,} + code {r.code_bytes:,}",
        f"  MACs   {human(r.macs):>10}",
        *_tflm_line(r),
        *_verify_line(r, ""),
    ]


def _firmware_lines(r: CompileReport) -> list[str]:
    fw = r.firmware or {}
    flash, ram, ins = fw["flash"], fw["ram"], fw["instructions_per_inference"]
    return [
        f"  target {fw['target']} on QEMU {fw['board']}: arm-none-eabi-gcc {fw['opt']}, "
        f"{'DSP' if fw['dsp_kernels'] else 'portable C'} kernels",
        f"  flash  {flash['total']:>10,} B  = kernels {flash['kernels']:,} + model constants "
        f"{flash['model_constants']:,} + runtime glue {flash['runtime_glue']:,}",
        f"  RAM    {ram['total']:>10,} B  = arena {ram['arena']:,} + static data "
        f"{ram['static_data']:,} + stack high-water {ram['stack_high_water']:,} (measured)",
        f"         arena plan: {r.planner}; lower bound {r.arena_lower_bound_bytes:,} B",
        *_patch_lines(r),
        f"  MACs   {human(r.macs):>10}",
        f"  instructions per inference ~{ins['mean']:,} (estimate from QEMU -icount, resolution "
        f"{ins['resolution']}; min {ins['min']:,}, max {ins['max']:,} over {ins['inferences']})",
        f"  harness (not part of the library): flash {fw['harness']['flash']:,} B, "
        f"I/O buffers {fw['harness']['ram']:,} B",
        *_tflm_line(r),
        *_verify_line(r, f" on {fw['target']} (QEMU)"),
    ]


def render_compile(r: CompileReport) -> str:
    """The human-readable report: what was written, RAM, flash, MACs, and verification."""
    head = f"wrote {r.name} to {r.directory}/ ({', '.join(r.files)})"
    if r.npu is not None:
        how = r.npu["npu"].get("verification", "")
        where = (" (Vela's model: NPU emulated, CPU operators in the runtime)"
                 if how.startswith("NPU operators: emulated") else " (CPU operators, runtime)")
        return "\n".join([head, render_npu(r.npu), *_verify_line(r, where)])
    body = _firmware_lines(r) if r.firmware is not None else _host_lines(r)
    return "\n".join([head, *body])
