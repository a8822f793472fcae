"""Size report: sections add up, and the stack is the deepest call chain from NAME_invoke."""

import pytest

from microforge.backends.c.compiler import compile_model
from microforge.errors import ToolError
from microforge.frontends.tflite.reader import read_tflite
from microforge.targets.sizes import deepest_stack, measure, parse_callgraph
from tests.oracle import MODELS

CALLGRAPH = '''graph: { title: "m.c"
node: { title: "m_invoke" label: "m_invoke\\nm.c:3:5\\n48 bytes (static)" }
node: { title: "mf_a" label: "mf_a\\na.c:1:6\\n300 bytes (static)" }
node: { title: "a.c:helper" label: "helper\\na.c:9:6\\n40 bytes (static)" }
node: { title: "mf_b" label: "mf_b\\nb.c:1:6\\n200 bytes (static)" }
node: { title: "memcpy" label: "__builtin_memcpy\\n<built-in>" shape : ellipse }
edge: { sourcename: "m_invoke" targetname: "mf_a" }
edge: { sourcename: "m_invoke" targetname: "mf_b" }
edge: { sourcename: "mf_a" targetname: "a.c:helper" }
edge: { sourcename: "mf_b" targetname: "memcpy" }
}'''


def test_deepest_chain():
    nodes, edges = {}, {}
    parse_callgraph(CALLGRAPH, nodes, edges)
    assert nodes["mf_a"] == 300 and "memcpy" not in nodes
    assert deepest_stack("m_invoke", nodes, edges) == 48 + 300 + 40


def test_recursion_is_reported():
    with pytest.raises(ToolError, match="recursion"):
        deepest_stack("f", {"f": 8, "g": 8}, {"f": {"g"}, "g": {"f"}})


def test_measure_person_detect(tmp_path):
    compiled = compile_model(read_tflite(MODELS / "person_detect.tflite"), tmp_path / "pd",
                             name="pd")
    sizes = measure(compiled.directory, "pd")
    assert sizes.data_bytes == compiled.arena_bytes  # no other static RAM
    assert 0 < sizes.stack_bytes < 4096
    assert sizes.const_bytes > 200_000 and sizes.code_bytes > 0
