"""The converter table: one function per ONNX operator type, ``fn(ctx, node)``, which reads the
node's inputs from the context and defines its outputs there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from microforge.frontends.onnx.context import Context

Converter = Callable[[Context, Any], None]
CONVERTERS: dict[str, Converter] = {}


def converter(*op_types: str) -> Callable[[Converter], Converter]:
    """Register ``fn`` as the lowering of ``op_types``."""

    def register(fn: Converter) -> Converter:
        for name in op_types:
            CONVERTERS[name] = fn
        return fn

    return register
