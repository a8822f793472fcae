"""Kernel modules, one per operator family. Importing this package registers them all."""

from microforge.runtime.kernels import (  # noqa: F401
    activations,
    cast,
    concatenation,
    conv,
    elementwise,
    fully_connected,
    logistic_tanh,
    lstm,
    pad,
    pooling,
    quantize,
    reduce,
    shape,
    softmax,
    strided_slice,
    svdf,
    transpose,
)
