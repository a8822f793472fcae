"""microforge: run trained neural networks on microcontrollers, bit-exact with TFLite Micro."""

from microforge.api import Interpreter, Model, QuantizedModel, load, quantize, save
from microforge.errors import (
    InputError,
    MicroforgeError,
    ModelError,
    ToolError,
    UnsupportedOpError,
)
from microforge.quantize import QuantReport

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Interpreter",
    "MicroforgeError",
    "Model",
    "ModelError",
    "QuantReport",
    "QuantizedModel",
    "ToolError",
    "UnsupportedOpError",
    "compile",
    "load",
    "quantize",
    "save",
]


def __getattr__(name: str):
    """``microforge.compile`` loads the backends and targets only when first used."""
    if name == "compile":
        from microforge.compiler import compile

        return compile
    raise AttributeError(f"module 'microforge' has no attribute {name!r}")
