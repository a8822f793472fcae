"""C emitters, one module per operator family. Importing this package registers them all."""

from microforge.codegen.ops import conv, fully_connected, lut, pooling, shape, softmax  # noqa: F401
