"""Layered graph layout by Graphviz's ``dot`` (run as a subprocess with an argument list, output
``-Tjson``): operators are nodes ranked top to bottom, tensors are edges with a shape/dtype label.
The coordinates are returned in SVG orientation (y grows downward), in points."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field

from microforge.errors import ToolError

INSTALL_HINT = ("the HTML report lays out the graph with Graphviz's dot, which is not installed: "
                "apt-get install graphviz (or brew install graphviz)")
POINTS_PER_INCH = 72.0


@dataclass
class Node:
    key: str  # "op3", "in0", "out0"
    label: str
    width: float = 1.8  # inches, as dot takes them
    height: float = 0.5


@dataclass
class Edge:
    tail: str
    head: str
    label: str
    tensor: int


@dataclass
class Laid:
    width: float
    height: float
    nodes: dict[str, dict] = field(default_factory=dict)  # key -> {x, y, w, h} (centre, size)
    edges: list[dict] = field(default_factory=list)  # {tensor, tail, head, path, arrow, lx, ly}


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(nodes: list[Node], edges: list[Edge]) -> str:
    lines = ["digraph g {", "rankdir=TB; nodesep=0.35; ranksep=0.45;",
             'node [shape=box, fontname="Helvetica", fontsize=11, fixedsize=true];',
             'edge [fontname="Helvetica", fontsize=9];']
    for n in nodes:
        lines.append(f"{_quote(n.key)} [label={_quote(n.label)}, width={n.width:.2f}, "
                     f"height={n.height:.2f}];")
    for k, e in enumerate(edges):
        lines.append(f"{_quote(e.tail)} -> {_quote(e.head)} [label={_quote(e.label)}, id=e{k}];")
    lines.append("}")
    return "\n".join(lines)


def run_dot(source: str) -> dict:
    """dot's JSON rendering of ``source``; one clear line when Graphviz is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        raise ToolError(INSTALL_HINT)
    proc = subprocess.run([exe, "-Tjson"], input=source, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise ToolError(f"Graphviz dot could not lay out the graph: {detail}")
    return json.loads(proc.stdout)


def _points(spec: str, flip: float) -> tuple[list[list[float]], list[float] | None]:
    """A dot spline ``"e,x,y x,y x,y ..."`` as control points (and the arrow tip when given)."""
    tip, pts = None, []
    for part in spec.split():
        fields = part.split(",")
        if fields[0] == "e":
            tip = [float(fields[1]), flip - float(fields[2])]
        elif fields[0] != "s":
            pts.append([float(fields[0]), flip - float(fields[1])])
    return pts, tip


def layout(nodes: list[Node], edges: list[Edge]) -> Laid:
    """Positions of ``nodes`` and spline paths of ``edges`` as laid out by dot."""
    out = run_dot(dot_source(nodes, edges))
    x0, y0, x1, y1 = (float(v) for v in out["bb"].split(","))
    laid = Laid(round(x1 - x0, 1), round(y1 - y0, 1))
    by_gvid = {}
    for obj in out.get("objects", []):
        x, y = (float(v) for v in obj["pos"].split(","))
        by_gvid[obj["_gvid"]] = obj["name"]
        laid.nodes[obj["name"]] = {"x": round(x, 1), "y": round(y1 - y, 1),
                                   "w": round(float(obj["width"]) * POINTS_PER_INCH, 1),
                                   "h": round(float(obj["height"]) * POINTS_PER_INCH, 1)}
    for e in out.get("edges", []):
        k = int(e["id"][1:])
        pts, tip = _points(e["pos"], y1)
        lx, ly = (float(v) for v in e.get("lp", "0,0").split(","))
        laid.edges.append({
            "tensor": edges[k].tensor, "tail": by_gvid[e["tail"]], "head": by_gvid[e["head"]],
            "label": edges[k].label,
            "path": "M" + " C".join(
                [f"{pts[0][0]:.1f},{pts[0][1]:.1f}"]
                + [" ".join(f"{x:.1f},{y:.1f}" for x, y in pts[i:i + 3]) for i in range(1, len(pts) - 2, 3)]),
            "arrow": tip, "lx": round(lx, 1), "ly": round(y1 - ly, 1)})
    return laid
