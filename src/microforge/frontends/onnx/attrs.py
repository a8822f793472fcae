"""ONNX node attributes as plain Python values."""

from __future__ import annotations

from typing import Any


def attrs(node: Any) -> dict[str, Any]:
    """``{name: value}``: ints, floats, strings (decoded), lists, tensors as numpy arrays."""
    from onnx import helper, numpy_helper

    out = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode()
        elif hasattr(value, "dims") and hasattr(value, "data_type"):
            value = numpy_helper.to_array(value)
        out[a.name] = value
    return out
