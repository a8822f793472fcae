"""``microforge compile``: plan memory and write a standalone C99 library."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from microforge.errors import InputError

TARGETS = ["host", "cortex-m4", "cortex-m7", "cortex-m55"]


def register(sub) -> None:
    p = sub.add_parser("compile", help="generate a standalone C99 library (no interpreter)")
    p.add_argument("model", nargs="?", help=".tflite file (not with --app)")
    p.add_argument("-o", "--output", required=True, help="directory to write the library into")
    p.add_argument("--name", default=None, help="C prefix of the library (default: model file stem)")
    p.add_argument("--target", default="host", choices=TARGETS,
                   help="host (this machine's C compiler) or a Cortex-M core: cross-compiled with "
                        "arm-none-eabi-gcc, verified and measured under qemu-system-arm "
                        "(default: host)")
    p.add_argument("--opt", default="O2", choices=["O0", "O1", "O2", "O3", "Os", "Oz"],
                   help="Cortex-M targets: gcc optimisation level of the firmware build "
                        "(default: O2)")
    p.add_argument("--no-dsp", action="store_true",
                   help="Cortex-M targets: build the kernels without DSP instructions (portable C)")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="build and check N random inputs against the Python runtime")
    p.add_argument("--sanitize", action="store_true",
                   help="with --verify: build with -fsanitize=address,undefined")
    p.add_argument("--compare-tflm", action="store_true",
                   help="report TFLM's arena for the same model (needs tflite-micro)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--force", action="store_true",
                   help="write into a directory that holds files microforge did not write")
    from microforge.commands import _kws_firmware as app_cli

    app_cli.add_arguments(p)
    p.set_defaults(func=main)


def _default_name(model: str) -> str:
    stem = "".join(ch if ch.isalnum() else "_" for ch in Path(model).stem)
    return stem if stem and not stem[0].isdigit() else f"model_{stem}"


def main(args: argparse.Namespace) -> int:
    from microforge.backends.c.compiler import compile_model
    from microforge.frontends import read_model
    from microforge.report.summary import summarize
    from microforge.report.tflm_arena import tflm_arena_bytes
    from microforge.targets.host import verify
    from microforge.targets.sizes import measure

    if args.app is not None or args.model is None:
        from microforge.commands import _kws_firmware as app_cli

        return app_cli.run(args)
    if args.verify < 0:
        raise InputError("--verify takes a number of inputs >= 0")
    graph = read_model(args.model)
    name = args.name or _default_name(args.model)
    compiled = compile_model(graph, args.output, name=name, force=args.force,
                             description=Path(args.model).name)
    if args.target != "host":
        return _cortex_m(args, graph, name, compiled)
    sizes = measure(compiled.directory, name)
    result = {
        "name": name,
        "directory": str(compiled.directory),
        "files": compiled.files,
        "arena_bytes": compiled.arena_bytes,
        "arena_lower_bound_bytes": compiled.plan.lower_bound,
        "arena_tflm_strategy_bytes": compiled.tflm_style_plan.size,
        "planner": compiled.plan.strategy,
        "state_bytes": compiled.source.state_bytes,
        "static_ram_bytes": sizes.data_bytes,
        "stack_bytes_estimate": sizes.stack_bytes,
        "ram_bytes": sizes.ram_bytes,
        "const_bytes": sizes.const_bytes,
        "code_bytes": sizes.code_bytes,
        "io_bytes": sum(graph.main.tensors[t].nbytes for t in graph.main.inputs + graph.main.outputs),
        "macs": summarize(graph).macs,
        "ops": compiled.op_rows,
        "verified": 0,
    }
    if args.verify:
        check = verify(compiled.directory, name, graph, args.verify, sanitize=args.sanitize)
        result["verified"] = check.samples if check.ok else 0
        result["differing_bytes"] = check.differing_bytes
        if not check.ok:
            _report(result, args)
            from microforge.errors import ModelError

            raise ModelError(
                f"verification failed: {check.differing_bytes} differing bytes "
                f"over {check.samples} inputs (first: {check.first_difference})"
            )
    if args.compare_tflm:
        result["tflm_arena_bytes"] = tflm_arena_bytes(args.model)
    _report(result, args)
    return 0


def _cortex_m(args: argparse.Namespace, graph, name: str, compiled) -> int:
    """Cortex-M targets: write the firmware harness, then build, run and measure it under QEMU."""
    from microforge.errors import ModelError
    from microforge.report.summary import summarize
    from microforge.report.tflm_arena import tflm_arena_bytes
    from microforge.targets.cortex_m import firmware as cortex_m

    if args.sanitize:
        raise InputError("--sanitize builds for the host only (the sanitizers need an OS)")
    opt = f"-{args.opt}"
    files = cortex_m.write_firmware(compiled.directory, name, graph, args.target, opt,
                                    not args.no_dsp)
    fw = cortex_m.evaluate(compiled.directory, name, graph, args.target, n=args.verify or 1,
                           opt=opt, dsp=not args.no_dsp)
    result = {
        "name": name, "directory": str(compiled.directory), "files": compiled.files + files,
        "arena_bytes": compiled.arena_bytes,
        "arena_lower_bound_bytes": compiled.plan.lower_bound,
        "arena_tflm_strategy_bytes": compiled.tflm_style_plan.size,
        "planner": compiled.plan.strategy, "state_bytes": compiled.source.state_bytes,
        **cortex_m.summary_fields(fw),
        "io_bytes": sum(graph.main.tensors[t].nbytes for t in graph.main.inputs + graph.main.outputs),
        "macs": summarize(graph).macs, "ops": compiled.op_rows,
        "verified": fw.check.samples if args.verify and fw.check.ok else 0,
    }
    if args.verify:
        result["differing_bytes"] = fw.check.differing_bytes
    if not fw.check.ok:
        _report(result, args)
        raise ModelError(
            f"verification on {args.target} failed: {fw.check.differing_bytes} differing bytes "
            f"over {fw.check.samples} inputs (first: {fw.check.first_difference})"
        )
    if args.compare_tflm:
        result["tflm_arena_bytes"] = tflm_arena_bytes(args.model)
    _report(result, args)
    return 0


def _report(r: dict, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(r, indent=2))
        return
    from microforge.report.text import human

    print(f"wrote {r['name']} to {r['directory']}/ ({', '.join(r['files'])})")
    if "firmware" in r:
        from microforge.targets.cortex_m.firmware import report_lines

        for line in report_lines(r):
            print(line)
        return
    print(f"  RAM    {r['ram_bytes']:>10,} B  = arena {r['arena_bytes']:,} + other static "
          f"{r['static_ram_bytes'] - r['arena_bytes']:,} + stack ~{r['stack_bytes_estimate']:,}")
    print(f"         arena plan: {r['planner']}; lower bound {r['arena_lower_bound_bytes']:,} B, "
          f"TFLM's greedy strategy on the same buffers {r['arena_tflm_strategy_bytes']:,} B")
    print(f"  flash  {r['const_bytes'] + r['code_bytes']:>10,} B  = constants "
          f"{r['const_bytes']:,} + code {r['code_bytes']:,}")
    print(f"  MACs   {human(r['macs']):>10}")
    if "tflm_arena_bytes" in r:
        ours = r["ram_bytes"] + r["io_bytes"]
        ratio = ours / r["tflm_arena_bytes"] if r["tflm_arena_bytes"] else 0
        print(f"  TFLM arena {r['tflm_arena_bytes']:,} B (holds the input and output tensors too): "
              f"microforge RAM + the caller's I/O buffers ({r['io_bytes']:,} B) = {ours:,} B, "
              f"{ratio:.2f}x")
    if "differing_bytes" in r:
        status = "bit-exact" if r["differing_bytes"] == 0 else "MISMATCH"
        print(f"  verify {r['verified'] or 0} random inputs vs the Python runtime: {status} "
              f"({r['differing_bytes']} differing bytes)")
