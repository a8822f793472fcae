"""One self-contained HTML page: the report's data as embedded JSON, the stylesheet and the script
(package data files ``report.css`` and ``report.js``) inlined; nothing is fetched."""

from __future__ import annotations

import html
import json
import math
from importlib.resources import files
from typing import Any


def _clean(v: Any) -> Any:
    """JSON without NaN or infinity (the browser's JSON.parse rejects them)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def asset(name: str) -> str:
    return files("microforge.report.html").joinpath(name).read_text(encoding="utf-8")


def render_html(data: dict) -> str:
    """The page for ``report_data``'s dict."""
    payload = json.dumps(_clean(data), separators=(",", ":"), allow_nan=False)
    payload = payload.replace("<", "\\u003c")  # no "</script>" or "<!--" inside the script element
    title = html.escape(data.get("title", "microforge report"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>{title} · microforge report</title>
<style>
{asset("report.css")}
</style>
</head>
<body>
<header><h1>{title}</h1><div id="summary"></div></header>
<nav><a href="#graph-section">Graph</a><a href="#memory-section">Memory plan</a>
<a href="#layers-section">Per-layer cost</a><a href="#quant-section">Quantization</a></nav>
<section id="graph-section"><h2>Graph</h2>
<div class="toolbar"><label>Colour by <select id="colour-by">
<option value="backend">backend (CPU / NPU)</option><option value="cost">cost</option></select></label>
<input id="search" type="search" placeholder="search operators and tensors" autocomplete="off">
<span id="search-count"></span><button id="fit" type="button">fit</button>
<span id="legend"></span></div>
<div class="graph-row"><div id="graph"></div><aside id="details"><p class="hint">Click an operator for its
options, quantization, weights, arena offsets and estimates. Wheel zooms, drag pans.</p></aside></div>
</section>
<section id="memory-section"><h2>Memory plan</h2><div id="memory"></div></section>
<section id="layers-section"><h2>Per-layer cost</h2><div id="layers"></div></section>
<section id="quant-section"><h2>Quantization</h2><div id="quant"></div></section>
<footer>Made by microforge. One file: no network, no fonts, no external scripts.</footer>
<script type="application/json" id="report-data">{payload}</script>
<script>
{asset("report.js")}
</script>
</body>
</html>
"""
