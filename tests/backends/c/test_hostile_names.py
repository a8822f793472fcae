"""Text from a model file never reaches the generated C unescaped (issue 15): tensor names, the
description and metadata carrying comment ends, newlines, quotes, backslashes, trigraphs and NUL
compile with -trigraphs -Werror, and the library still matches the runtime byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace

import pytest

from microforge.backends.c.cdata import COMMENT_MAX, c_comment
from microforge.backends.c.compiler import compile_model
from microforge.errors import ModelError
from microforge.frontends import read_model, write_tflite
from microforge.targets.host import verify

HOSTILE = ['*/ int evil = 1; /*', "line\nbreak", 'quote " here', "back\\", "tri??/", "nul\0byte",
           "??=define x", "/* open", "é ünïcode", "\\\nspliced"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_comment_cannot_be_left_or_spliced(text):
    out = c_comment(text)
    assert out.isascii() and out.isprintable()
    for bad in ("*/", "/*", "??", "\\"):
        assert bad not in out
    assert len(c_comment(text * 100)) <= COMMENT_MAX


def test_hostile_names_and_description_compile_and_verify(models_dir, tmp_path):
    graph = read_model(models_dir / "hello_world_int8.tflite")
    sg = graph.main
    sg.tensors = [replace(t, name=HOSTILE[i % len(HOSTILE)] + str(i)) for i, t in enumerate(sg.tensors)]
    graph.description = "".join(HOSTILE)
    graph.metadata = {h: h.encode() for h in HOSTILE}
    graph = read_model(write_tflite(graph))  # the names survive a round trip through a file
    assert graph.main.tensors[0].name == HOSTILE[0] + "0"
    compiled = compile_model(graph, tmp_path / "out", name="m", description="".join(HOSTILE))
    text = "".join(p.read_text() for p in compiled.directory.glob("m.[ch]"))
    marked = [line for line in text.splitlines() if "evil" in line]
    assert marked, "the description is in a comment"
    for line in marked:  # one whole comment per line: the text could not end it early
        assert line.startswith("/*") and line.endswith("*/") and line.count("*/") == 1, line
        assert "line_break" in line
    assert "??" not in text and "\\\n" not in text and "\0" not in text
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) on PATH")
    subprocess.run([cc, "-std=c99", "-trigraphs", "-Wall", "-Werror", "-Wcomment", "-fsyntax-only",
                    "-I", str(compiled.directory), str(compiled.directory / "m.c")], check=True)
    result = verify(compiled.directory, "m", graph, 3)
    assert result.differing_bytes == 0


def test_an_arena_past_the_limit_is_refused_before_any_c_is_written(models_dir, tmp_path,
                                                                    monkeypatch):
    graph = read_model(models_dir / "hello_world_int8.tflite")
    monkeypatch.setenv("MICROFORGE_MAX_ARENA_BYTES", "8")
    with pytest.raises(ModelError, match="planned arena size .* MICROFORGE_MAX_ARENA_BYTES"):
        compile_model(graph, tmp_path / "out", name="m")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
