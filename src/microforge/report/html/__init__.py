"""The HTML report: one self-contained page with the graph (laid out by Graphviz dot), the memory
plans, per-layer cost and quantization error. ``report_data`` gathers, ``render_html`` renders,
``write_report`` does both into a file."""

from __future__ import annotations

import os
from pathlib import Path

from microforge.report.html.build import report_data
from microforge.report.html.page import render_html


def write_report(path: str | os.PathLike, data: dict) -> int:
    """Write the page for ``data`` to ``path``; returns its size in bytes."""
    text = render_html(data).encode("utf-8")
    Path(path).write_bytes(text)
    return len(text)


__all__ = ["render_html", "report_data", "write_report"]
