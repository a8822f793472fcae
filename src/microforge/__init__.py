"""microforge: run trained neural networks on microcontrollers, bit-exact with TFLite Micro."""

from microforge.api import Interpreter, Model, load, save
from microforge.errors import (
    InputError,
    MicroforgeError,
    ModelError,
    ToolError,
    UnsupportedOpError,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Interpreter",
    "MicroforgeError",
    "Model",
    "ModelError",
    "ToolError",
    "UnsupportedOpError",
    "load",
    "save",
]
