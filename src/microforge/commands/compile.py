"""``microforge compile``: plan memory and write a standalone C99 library."""

from __future__ import annotations

import argparse
from pathlib import Path

from microforge.commands.output import check_output
from microforge.errors import InputError, ModelError


def register(sub) -> None:
    from microforge.backends.ethos_u.vela import KNOWN_ACCELERATORS
    from microforge.commands import kws
    from microforge.targets import TARGETS

    p = sub.add_parser("compile", help="generate a standalone C99 library (no interpreter)")
    p.add_argument("model", nargs="?", help=".tflite, .onnx, .h5 or .keras model (not with --app)")
    p.add_argument("-o", "--output", required=True, help="directory to write the library into")
    p.add_argument("--name", default=None, help="C prefix of the library (default: model file stem)")
    p.add_argument("--target", default="host", choices=list(TARGETS) + list(KNOWN_ACCELERATORS),
                   help="host (this machine's C compiler), a Cortex-M core (cross-compiled with "
                        "arm-none-eabi-gcc, verified and measured under qemu-system-arm) or an "
                        "Arm Ethos-U NPU configuration, compiled by Vela (needs microforge[npu]; "
                        "ethos-u85-* when the installed Vela supports it) (default: host)")
    add_vela_options(p)
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
    p.add_argument("--report", metavar="HTML", default=None,
                   help="also write a self-contained HTML report (graph, memory plan, per-layer "
                        "cost; see `microforge report`)")
    p.add_argument("--force", action="store_true",
                   help="write into a directory that holds files microforge did not write")
    p.add_argument("--app", choices=["kws"], default=None,
                   help="generate an example application instead of one library: kws = keyword "
                        "spotting (needs --preprocessor, --model, --labels)")
    g = p.add_argument_group("--app kws (the options of `microforge kws`)")
    g.add_argument("--preprocessor", help="feature model .tflite (int16 window in)")
    g.add_argument("--model", dest="app_model", help="classifier .tflite, or a model directory "
                   "from `microforge audio train` (preprocessor, int8 model and labels)")
    g.add_argument("--labels", help="comma-separated labels of the classifier outputs")
    kws.add_spotter_options(g)
    p.set_defaults(func=main)


def add_vela_options(p: argparse.ArgumentParser) -> None:
    """``--system-config`` / ``--memory-mode``: passed to Vela for an Ethos-U target."""
    from microforge.backends.ethos_u.vela import DEFAULT_CONFIG

    p.add_argument("--system-config", default=DEFAULT_CONFIG,
                   help="Ethos-U targets: Vela's system configuration (e.g. "
                        "Ethos_U55_High_End_Embedded; default: Vela's default for the accelerator)")
    p.add_argument("--memory-mode", default=DEFAULT_CONFIG,
                   help="Ethos-U targets: Vela's memory mode (Shared_Sram, Sram_Only, "
                        "Dedicated_Sram; default: Vela's default for the accelerator)")


def main(args: argparse.Namespace) -> int:
    from microforge.compiler import compile
    from microforge.report.compile import compile_json, render_compile
    from microforge.targets import BuildOptions

    if args.app is not None or args.model is None:
        from microforge.commands import kws

        return kws.compile_app(args)
    if args.verify < 0:
        raise InputError("--verify takes a number of inputs >= 0")
    if args.report is not None:
        check_output(Path(args.model), Path(args.report), force=True)
    options = BuildOptions(opt=f"-{args.opt}", dsp=not args.no_dsp, sanitize=args.sanitize)
    report = compile(args.model, args.output, name=args.name, target=args.target,
                     verify=args.verify, options=options, compare_tflm=args.compare_tflm,
                     force=args.force, system_config=args.system_config,
                     memory_mode=args.memory_mode)
    print(compile_json(report) if args.json else render_compile(report))
    if report.failure:
        raise ModelError(report.failure)
    if args.report is not None:
        from microforge.commands.report import html_report
        from microforge.frontends import read_model

        size = html_report(read_model(args.model), Path(args.model).name, Path(args.report),
                           target=args.target, compile_report=report)
        if not args.json:
            print(f"wrote {args.report} ({size:,} bytes)")
    return 0
