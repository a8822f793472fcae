"""Build the generated library with a host C compiler and verify it against the Python runtime.

The harness reads samples from a binary file, calls ``NAME_invoke`` for each (``NAME_reset`` every
``reset_every`` samples for stateful models) and writes the outputs; Python compares every byte.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from microforge.backends.c.cdata import ctype
from microforge.errors import ModelError, ToolError
from microforge.ir import Graph
from microforge.runtime.reference import VerifyResult, compare_outputs, reference
from microforge.targets.base import BuildOptions, Measurement

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def find_compiler(cc: str | None = None) -> str:
    for candidate in ([cc] if cc else ["cc", "gcc", "clang"]):
        if candidate and shutil.which(candidate):
            return candidate
    raise ToolError(
        f"C compiler {cc or 'cc'} not found; install one (Debian/Ubuntu: apt-get install gcc)"
    )


def harness_source(name: str, graph: Graph) -> str:
    sg = graph.main
    lines = ["#include <stdio.h>", "#include <stdlib.h>", f'#include "{name}.h"', ""]
    for k, t in enumerate(sg.inputs):
        lines.append(f"static {ctype(sg.tensors[t].dtype)} in{k}[{max(sg.tensors[t].size, 1)}];")
    for k, t in enumerate(sg.outputs):
        lines.append(f"static {ctype(sg.tensors[t].dtype)} out{k}[{max(sg.tensors[t].size, 1)}];")
    args = [f"in{k}" for k in range(len(sg.inputs))] + [f"out{k}" for k in range(len(sg.outputs))]
    param_types = [f"const {ctype(sg.tensors[t].dtype)} *" for t in sg.inputs]
    param_types += [f"{ctype(sg.tensors[t].dtype)} *" for t in sg.outputs]
    lines += [
        "",
        "int main(int argc, char **argv) {",
        # Called through a volatile pointer so that the invoke stays one function even with
        # link-time optimisation (benchmarks count the instructions inside it).
        f"    int (*volatile invoke)({', '.join(param_types)}) = {name}_invoke;",
        "    FILE *fi, *fo;",
        "    long i, n, reset_every;",
        "    if (argc != 5) { fprintf(stderr, \"usage: harness IN OUT N RESET_EVERY\\n\"); return 2; }",
        "    fi = fopen(argv[1], \"rb\");",
        "    fo = fopen(argv[2], \"wb\");",
        "    if (!fi || !fo) { fprintf(stderr, \"cannot open files\\n\"); return 2; }",
        "    n = atol(argv[3]);",
        "    reset_every = atol(argv[4]);",
        "    for (i = 0; i < n; ++i) {",
        f"        if (reset_every > 0 && i % reset_every == 0) {{ {name}_reset(); }}",
    ]
    for k in range(len(sg.inputs)):
        lines.append(f"        if (fread(in{k}, sizeof(in{k}), 1, fi) != 1) {{ return 3; }}")
    lines.append(f"        if (invoke({', '.join(args)}) != 0) {{ return 4; }}")
    for k in range(len(sg.outputs)):
        lines.append(f"        if (fwrite(out{k}, sizeof(out{k}), 1, fo) != 1) {{ return 5; }}")
    lines += ["    }", "    fclose(fi);", "    fclose(fo);", "    return 0;", "}", ""]
    return "\n".join(lines)


def build_harness(src_dir: Path, name: str, graph: Graph, work: Path, sanitize: bool = False,
                  cc: str | None = None, extra_flags: list[str] | None = None) -> Path:
    compiler = find_compiler(cc)
    (work / "harness.c").write_text(harness_source(name, graph))
    sources = sorted(str(p) for p in src_dir.glob("*.c")) + [str(work / "harness.c")]
    exe = work / "harness"
    cmd = [compiler, *CFLAGS, *(SANITIZE if sanitize else []), *(extra_flags or []),
           f"-I{src_dir}", *sources, "-o", str(exe), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["(no output)"])[0]
        raise ToolError(f"building the generated C failed: {first}")
    return exe


def verify(src_dir: Path, name: str, graph: Graph, n: int, sanitize: bool = False,
           cc: str | None = None, seed: int = 0,
           extra_flags: list[str] | None = None) -> VerifyResult:
    """Run n random inputs through the built library and the Python runtime; count differing bytes.

    ``extra_flags`` go to the compiler after the defaults (e.g. ``["-DMF_NO_SIMD"]`` to check the
    portable C paths on a host that has SIMD)."""
    ref = reference(graph, n, seed)
    with tempfile.TemporaryDirectory(prefix="microforge-verify-") as tmp:
        work = Path(tmp)
        exe = build_harness(src_dir, name, graph, work, sanitize=sanitize, cc=cc,
                            extra_flags=extra_flags)
        (work / "in.bin").write_bytes(ref.input_bytes())
        proc = subprocess.run(
            [str(exe), str(work / "in.bin"), str(work / "out.bin"), str(ref.total),
             str(ref.reset_every)],
            capture_output=True, text=True, timeout=600,
        )
        if proc.returncode != 0:
            detail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[0]
            raise ModelError(f"the generated library failed at run time: {detail}")
        raw = (work / "out.bin").read_bytes()
    return compare_outputs(raw, graph, ref, sanitize)


class HostTarget:
    """This machine's C compiler: sizes from the object files (stack from gcc's call graph),
    verification by a harness executable, optionally under the sanitizers."""

    name = "host"

    def check_options(self, options: BuildOptions) -> None:
        """Every option is fine on the host (``opt`` and ``dsp`` apply to Cortex-M builds)."""

    def measure(self, lib_dir: Path, name: str, graph: Graph, verify_n: int,
                options: BuildOptions) -> Measurement:
        from microforge.targets.sizes import measure

        sizes = measure(lib_dir, name)
        check = verify(lib_dir, name, graph, verify_n, sanitize=options.sanitize) if verify_n else None
        return Measurement(sizes.data_bytes, sizes.stack_bytes, sizes.ram_bytes, sizes.const_bytes,
                           sizes.code_bytes, check=check)
