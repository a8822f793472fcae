"""``microforge compile`` end to end: whole shared models compile, build with -Werror, match the
Python runtime on 200 random inputs (and under the sanitizers), and build standalone with make and
cmake; bad input is refused with one line."""

import json
import os
import subprocess
import sys

import pytest

from microforge.backends.c.compiler import compile_model
from microforge.frontends.tflite.reader import read_tflite
from microforge.targets.host import verify
from tests.oracle import MODELS

COMPILED_MODELS = [
    "hello_world_int8.tflite",
    "hello_world_float.tflite",
    "micro_speech_quantized.tflite",
    "person_detect.tflite",
]


def cli(*args, env=None):
    proc = subprocess.run([sys.executable, "-m", "microforge", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize("name", COMPILED_MODELS)
def test_model_compiles_and_verifies_bit_exact(name, tmp_path):
    graph = read_tflite(MODELS / name)
    stem = name.removesuffix(".tflite")
    compiled = compile_model(graph, tmp_path / "lib", name=stem)
    result = verify(compiled.directory, stem, graph, 200)
    assert result.samples == 200 and result.differing_bytes == 0, result.first_difference
    sanitized = verify(compiled.directory, stem, graph, 20, sanitize=True, seed=1)
    assert sanitized.ok, sanitized.first_difference


def test_cli_json_report(tmp_path):
    code, out, err = cli("compile", MODELS / "micro_speech_quantized.tflite", "-o", tmp_path / "ms",
                         "--verify", "50", "--json", "--compare-tflm")
    assert code == 0, err
    r = json.loads(out)
    for key in ("arena_bytes", "ram_bytes", "const_bytes", "code_bytes", "ops", "verified",
                "tflm_arena_bytes"):
        assert key in r
    assert r["verified"] == 50 and r["differing_bytes"] == 0
    assert r["arena_bytes"] <= r["arena_tflm_strategy_bytes"]
    assert r["ram_bytes"] + r["io_bytes"] < r["tflm_arena_bytes"]
    # the DEPTHWISE_CONV_2D (model operator 1) runs band by band, each band's share of the
    # FULLY_CONNECTED (operator 2) accumulated as it goes: one patch stage in the call sequence
    assert [op["op"] for op in r["ops"]] == ["RESHAPE", "MF_PATCH_STAGE", "SOFTMAX"]
    assert [op["model_index"] for op in r["ops"]] == [0, 1, 3]
    (stage,) = r["patch_stages"]
    assert (stage["first"], stage["last"], stage["fully_connected"]) == (1, 1, 2)
    assert r["ops"][0]["view"] is True


def test_generated_directory_builds_with_make_and_cmake(tmp_path):
    out = tmp_path / "lib"
    code, _, err = cli("compile", MODELS / "micro_speech_quantized.tflite", "-o", out, "--name", "kws")
    assert code == 0, err
    subprocess.run(["make", "-s"], cwd=out, check=True, capture_output=True)
    assert (out / "libkws.a").is_file()
    build = tmp_path / "cmake-build"
    subprocess.run(["cmake", "-S", str(out), "-B", str(build)], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    assert any(p.name.startswith("libkws") for p in build.iterdir())


def test_generated_c_has_no_malloc_or_vla(tmp_path):
    compiled = compile_model(read_tflite(MODELS / "person_detect.tflite"), tmp_path / "pd",
                             name="pd")
    text = "\n".join(p.read_text() for p in compiled.directory.glob("*.[ch]"))
    for banned in ("malloc", "calloc", "realloc", "free("):
        assert banned not in text
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wvla", "-fsyntax-only"]
    for src in compiled.directory.glob("*.c"):
        subprocess.run(["cc", *flags, f"-I{compiled.directory}", str(src)], check=True)


def test_refuses_directory_with_user_files(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    code, _, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", out)
    assert code == 2 and "did not write" in err and "--force" in err and len(err.splitlines()) == 1
    assert (out / "notes.txt").read_text() == "precious"
    code, _, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", out, "--force")
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "precious"  # --force writes beside, never deletes


def test_recompiling_into_own_output_is_allowed(tmp_path):
    out = tmp_path / "lib"
    for _ in range(2):
        code, _, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", out)
        assert code == 0, err


def test_unsupported_op_names_it(tmp_path):
    code, _, err = cli("compile", MODELS / "person_detect_vela.tflite", "-o", tmp_path / "v")
    assert code == 1 and "ethos-u" in err and "operator 0" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_missing_compiler_is_a_clear_error(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(sys.executable, bindir / "python")
    env = dict(os.environ, PATH=str(bindir))
    code, _, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", tmp_path / "x",
                       "--verify", "5", env=env)
    assert code == 1 and "compiler" in err and "apt-get install" in err
    assert "Traceback" not in err


def test_bad_name(tmp_path):
    code, _, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", tmp_path / "x",
                       "--name", "3d-model")
    assert code == 2 and "C identifier" in err
