"""``microforge demo``: the pipeline end to end on the model the package builds."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("demo", help="end-to-end demo on a model the package builds")
    p.add_argument("--out", default=None, help="directory for the demo files (default: a temp dir)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from microforge.apps.demo import run_demo

    return run_demo(args.out)
