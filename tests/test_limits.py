"""The kernel workspace limit: arrays a runtime kernel derives from shapes that are each within the
tensor limit are refused before they are allocated (fuzz corpus inputs that asked for 4 and 40
GiB), and the limit is overridable like the others."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

import microforge
from microforge.errors import ModelError

CORPUS = Path(__file__).resolve().parent / "fuzz" / "corpus" / "tflite"


@pytest.mark.parametrize("name", ["conv-strip-weights-4gib-memoryerror.tflite",
                                  "depthwise-tiled-filter-40gib-memoryerror.tflite"])
def test_a_workspace_past_the_limit_is_refused_before_allocation(name):
    tracemalloc.start()
    try:
        with pytest.raises(ModelError) as exc:
            microforge.load(CORPUS / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 << 20, f"{peak:,} bytes allocated before the refusal"
    message = str(exc.value)
    assert "MICROFORGE_MAX_WORKSPACE_BYTES" in message and "\n" not in message


def test_the_workspace_limit_is_overridable(models_dir, monkeypatch):
    microforge.load(models_dir / "person_detect.tflite")  # within the default
    monkeypatch.setenv("MICROFORGE_MAX_WORKSPACE_BYTES", "4096")
    with pytest.raises(ModelError, match="MICROFORGE_MAX_WORKSPACE_BYTES"):
        microforge.load(models_dir / "person_detect.tflite")
