"""microforge: run trained neural networks on microcontrollers, bit-exact with TFLite Micro."""

from microforge.api import Interpreter, Model, load, save
from microforge.errors import (
    InputError,
    MicroforgeError,
    ModelError,
    ToolError,
    UnsupportedOpError,
)
from microforge.quantize import QuantizedModel, QuantReport, quantize  # the function shadows the package

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
    "load",
    "quantize",
    "save",
]
