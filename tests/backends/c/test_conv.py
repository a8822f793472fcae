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
    check(inplace_chain(channels).build(), tmp_path / "lib", n=20, flags=flags)
