"""The kernel variants (backends/c/x86_sse2/, arm_dsp/, arm_mve/) beside the portable C: every variant file
reaches the generated directory of a shared model that the bit-exactness tests build (host SSE2
in test_compile, DSP under QEMU in test_cortex_m); each one changes the code of the kernel file it
belongs to when its target's build is on, and nothing when it is off; the MF_VARIANT_* list of
each variant directory names exactly the functions the portable files leave out for it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from microforge.backends.c.compiler import compile_model
from microforge.backends.c.sources import SOURCE_DIRS, VARIANT_DIRS, kernel_files, source_dir
from microforge.frontends.tflite.reader import read_tflite
from microforge.targets.cortex_m.firmware import BOARDS
from microforge.targets.host import CFLAGS, find_compiler
from tests.oracle import MODELS

# Shared models verified bit-exact on the host (SSE2) and under QEMU (DSP) that together use every
# kernel with a variant.
VARIANT_MODELS = ["audio_preprocessor_int8", "trained_lstm", "micro_speech_quantized"]
# (directory, its header, the define that turns the variant off, compiler, target flags)
BUILDS = {
    "x86_sse2": ("mf_x86_sse2.h", "-DMF_NO_SIMD", None, []),
    "arm_dsp": ("mf_arm_dsp.h", "-DMF_NO_DSP", "arm-none-eabi-gcc", list(BOARDS["cortex-m4"].cpu_flags)),
    "arm_mve": ("mf_arm_mve.h", "-DMF_NO_MVE", "arm-none-eabi-gcc", list(BOARDS["cortex-m55"].cpu_flags)),
}
SUFFIX = {"x86_sse2": "_sse2.h", "arm_dsp": "_dsp.h", "arm_mve": "_mve.h"}


def _names(directory: str, ext: str) -> list[str]:
    return sorted(f.name for f in source_dir(directory).iterdir() if f.name.endswith(ext))


def test_file_names_are_unique_across_the_source_directories():
    names = [n for d in SOURCE_DIRS for n in _names(d, ".h") + _names(d, ".c")]
    assert len(names) == len(set(names))
    assert not any(_names(d, ".c") for d in VARIANT_DIRS)  # a build compiles every .c it gets


def test_every_variant_file_is_copied_for_the_shared_models(tmp_path):
    written: set[str] = set()
    for model in VARIANT_MODELS:
        compiled = compile_model(read_tflite(MODELS / f"{model}.tflite"), tmp_path / model, name="m")
        written |= set(compiled.files)
        for f in compiled.files:  # flat: every file the kernels include is there
            assert (compiled.directory / f).is_file()
    for d in VARIANT_DIRS:
        assert set(_names(d, ".h")) <= written, d


def test_kernel_files_follow_the_includes():
    files = kernel_files(["mf_lstm"])
    assert {"mf_lstm.c", "mf_lstm.h", "mf_lstm_sse2.h", "mf_math_sse2.h", "mf_matvec_sse2.h",
            "mf_activations.h", "mf_fully_connected.h", "mf_common.h", "mf_x86_sse2.h",
            "mf_arm_dsp.h"} <= set(files)
    assert "mf_activations.c" not in files  # other stems' sources come from the emitters
    assert files["mf_lstm.c"] == (source_dir("portable") / "mf_lstm.c").read_text()


def _variant_macros(text: str) -> set[str]:
    return set(re.findall(r"^#define (MF_VARIANT_\w+) 1", text, re.MULTILINE))


@pytest.mark.parametrize("directory", VARIANT_DIRS)
def test_variant_list_matches_the_portable_guards(directory):
    header, *_ = BUILDS[directory]
    listed = _variant_macros((source_dir(directory) / header).read_text())
    guarded = set()
    for name in _names("portable", ".c"):
        guarded |= set(re.findall(r"^#ifndef (MF_VARIANT_\w+)$",
                                  (source_dir("portable") / name).read_text(), re.MULTILINE))
    others = set().union(*(_variant_macros((source_dir(d) / BUILDS[d][0]).read_text())
                           for d in VARIANT_DIRS if d != directory))
    assert listed and listed <= guarded
    assert guarded <= listed | others  # nothing is left out for no variant
    # each group of the list names its variant file, which exists
    for name in re.findall(r"^/\* (mf_\w+\.h) \*/$", (source_dir(directory) / header).read_text(),
                           re.MULTILINE):
        assert (source_dir(directory) / name).is_file(), name


def _stems_with_variant(directory: str) -> list[str]:
    stems = [n.removesuffix(SUFFIX[directory]) for n in _names(directory, SUFFIX[directory])]
    return [s for s in stems if (source_dir("portable") / f"{s}.c").is_file()]


def _object(cc: str, flags: list[str], stem: str, work: Path) -> bytes:
    src = work / "src"
    src.mkdir(exist_ok=True)
    for name, text in kernel_files([stem]).items():
        (src / name).write_text(text)
    obj = work / f"{stem}{len(list(work.glob('*.o')))}.o"
    proc = subprocess.run([cc, *CFLAGS, *flags, f"-I{src}", "-c", str(src / f"{stem}.c"), "-o",
                           str(obj)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return obj.read_bytes()


@pytest.mark.parametrize("directory", VARIANT_DIRS)
def test_each_variant_is_compiled_into_its_kernel_file(directory, tmp_path):
    """Built from its stem's files alone, a portable file with a variant compiles to other code
    with the variant on than with it off; one without a variant does not change."""
    _, off, cc, target = BUILDS[directory]
    if cc is None:
        cc = find_compiler(None)
    elif shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed")
    defines = subprocess.run([cc, *target, "-dM", "-E", "-x", "c", "-"], input="",
                             capture_output=True, text=True).stdout
    if directory == "x86_sse2" and "__SSE2__" not in defines:
        pytest.skip("the host compiler does not target SSE2")
    stems = _stems_with_variant(directory)
    assert stems
    for stem in stems + ["mf_pooling"]:
        on = _object(cc, target, stem, tmp_path)
        assert (on != _object(cc, [*target, off], stem, tmp_path)) == (stem != "mf_pooling"), stem
