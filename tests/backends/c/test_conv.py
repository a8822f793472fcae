"""CONV_2D / DEPTHWISE_CONV_2D on the host: the SSE2 kernels (x86_sse2/mf_conv_sse2.h: the matrix
product over int16 windows, the eight-channel depthwise and the four-lane requantization) and the
portable C bit-exact with the Python runtime on the edge shapes of tests/builders/conv_edges.py
(odd and non-multiple-of-4/8/16 channels, stride 2, padding on every side, dilation, per-channel
multipliers near 2^31 with left shifts up to 3 and right shifts down to 30), and on a depthwise
layer run in place."""

from __future__ import annotations

import pytest

from tests.builders.c import BOTH_BUILDS, check
from tests.builders.conv_edges import edge_cases, inplace_chain


@BOTH_BUILDS
def test_edge_shapes_bit_exact(flags, tmp_path):
    check(edge_cases().build(), tmp_path / "lib", n=100, flags=flags)


@BOTH_BUILDS
@pytest.mark.parametrize("channels", [5, 24, 72])
def test_depthwise_in_place_bit_exact(channels, flags, tmp_path):
    check(inplace_chain(channels).build(), tmp_path / "lib", n=20, flags=flags, patches=False)


def test_one_channel_depthwise_runs_as_a_convolution():
    """person_detect's and micro_speech's first layers (one input channel, depth multiplier 8)
    take the convolution kernels; other depthwise layers keep the depthwise ones."""
    from microforge.backends.c.compiler import generate

    graph = edge_cases().build()
    source = generate(graph, "m", "test", patches=False).source.source
    ops = graph.main.operators
    one = [i for i, op in enumerate(ops) if op.opcode == "DEPTHWISE_CONV_2D"
           and graph.main.tensors[op.inputs[0]].shape[3] == 1
           and graph.main.tensors[op.outputs[0]].shape[3] > 1]
    assert len(one) == 4
    calls = [line.strip().split("(")[0] for line in source.splitlines() if line.strip().startswith("mf_")]
    assert calls.count("mf_depthwise_conv_s8") == 9 and calls.count("mf_conv_s8") == 8 + 4
