"""C emitters, one module per operator family. Importing this package registers them all."""

from microforge.backends.c.ops import (  # noqa: F401
    activations_wide,
    conv,
    data_movement,
    elementwise,
    fully_connected,
    lstm,
    lut,
    pooling,
    prelu,
    quantize,
    shape,
    signal,
    softmax,
    svdf,
)
