"""Graphviz dot lays out the operator graph: every node placed inside the drawing, ranks top to
bottom along the edges, one path per edge; without dot, one line saying how to install it."""

from __future__ import annotations

import pytest

from microforge.errors import ToolError
from microforge.report.html import layout as layout_module
from microforge.report.html.layout import Edge, Node, dot_source, layout


def test_chain_and_branch_are_ranked_top_to_bottom():
    nodes = [Node("in0", "input"), Node("op0", "CONV_2D"), Node("op1", 'A "quoted" op'), Node("op2", "ADD")]
    edges = [Edge("in0", "op0", "int8[1,8,8,3]", 0), Edge("op0", "op1", "int8[1,8,8,4]", 1),
             Edge("op0", "op2", "int8[1,8,8,4]", 1), Edge("op1", "op2", "int8[1,8,8,4]", 2)]
    laid = layout(nodes, edges)
    assert set(laid.nodes) == {"in0", "op0", "op1", "op2"}
    for n in laid.nodes.values():
        assert 0 <= n["x"] <= laid.width and 0 <= n["y"] <= laid.height
        assert n["w"] > 0 and n["h"] > 0
    y = {k: n["y"] for k, n in laid.nodes.items()}
    assert y["in0"] < y["op0"] < y["op1"] < y["op2"]
    assert [(e["tail"], e["head"]) for e in laid.edges] == [(e.tail, e.head) for e in edges]
    for e in laid.edges:
        assert e["path"].startswith("M") and " C" in e["path"] and e["arrow"] is not None


def test_labels_are_quoted_for_dot():
    src = dot_source([Node("op0", 'say "hi" \\ there')], [])
    assert '"say \\"hi\\" \\\\ there"' in src


def test_missing_dot_is_one_line_naming_the_package(monkeypatch):
    monkeypatch.setattr(layout_module.shutil, "which", lambda name: None)
    with pytest.raises(ToolError) as err:
        layout([Node("op0", "ADD")], [])
    assert "apt-get install graphviz" in str(err.value) and "\n" not in str(err.value)
