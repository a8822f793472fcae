"""Coverage-guided fuzzing of one parser with atheris (libFuzzer for Python):

    PYTHONPATH=src:. python -m tests.fuzz.atheris_fuzz PARSER [libFuzzer flags] [CORPUS_DIR ...]

PARSER is tflite, onnx, keras or wav; every input runs through
``tests.builders.fuzz_targets.exercise`` (read, validate, inspect, prepare, run). A
:class:`MicroforgeError` is the expected rejection; any other exception, a hang past
``-timeout`` or a crash is a finding, written by libFuzzer as ``crash-<sha1>`` (with
``-artifact_prefix``). Only microforge's own modules are instrumented for coverage. Give a copy
of the seeds as CORPUS_DIR: libFuzzer adds the inputs it finds to the first one.
"""

from __future__ import annotations

import sys


def main() -> None:
    import atheris

    parser = sys.argv[1]
    with atheris.instrument_imports(include=["microforge.frontends", "microforge.apps.audio.wav"]):
        import microforge.api  # noqa: F401
        import microforge.apps.audio.wav  # noqa: F401
        import microforge.frontends  # noqa: F401
        import microforge.frontends.keras.container  # noqa: F401
        import microforge.frontends.onnx  # noqa: F401
        import microforge.report.summary  # noqa: F401
        import microforge.runtime.kernels  # noqa: F401
    from microforge.errors import MicroforgeError
    from tests.builders.fuzz_targets import exercise

    def one_input(data: bytes) -> None:
        try:
            exercise(parser, data)
        except MicroforgeError:
            pass

    atheris.Setup([sys.argv[0], *sys.argv[2:]], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
