"""compare_outputs: every byte counts, except that a NaN on both sides is equal whatever its
payload bits (the C library and numpy make different ones)."""

from __future__ import annotations

import numpy as np

from microforge.frontends import read_model
from microforge.runtime.reference import Reference, compare_outputs


def test_nan_payloads_are_equal_but_numbers_are_not(models_dir):
    graph = read_model(models_dir / "hello_world_float.tflite")  # one float32 output (1, 1)
    (out,) = graph.main.outputs
    assert graph.main.tensors[out].dtype == np.float32 and graph.main.tensors[out].size == 1
    want = np.array([[1.0], [np.nan], [2.0]], np.float32)
    ref = Reference([want], [want], 3, 0)
    got = want.copy()
    got[1, 0] = np.array([0x7FC00001], np.uint32).view(np.float32)[0]  # another NaN payload
    assert got.tobytes() != want.tobytes()
    assert compare_outputs(got.tobytes(), graph, ref).differing_bytes == 0
    got[2, 0] = np.nan
    assert compare_outputs(got.tobytes(), graph, ref).differing_bytes > 0
