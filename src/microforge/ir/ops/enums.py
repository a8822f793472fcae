"""The enums operator options carry (values equal the TFLite schema's, so a file's integers decode
to them unchanged and encode back as the same integers), and the roles of operator inputs."""

from __future__ import annotations

from enum import Enum, IntEnum


class Activation(IntEnum):
    """A fused activation (TFLite ``ActivationFunctionType``): the clamp an operator applies to its
    output. TFLM clamps with NONE / RELU / RELU_N1_TO_1 / RELU6; SVDF and LSTM also apply TANH and
    SIGN_BIT."""

    NONE = 0
    RELU = 1
    RELU_N1_TO_1 = 2
    RELU6 = 3
    TANH = 4
    SIGN_BIT = 5


# The finite real interval a fused activation clamps its output to, whatever the input (TFLM's
# CalculateActivationRange); the other activations leave at least one side open.
ACTIVATION_BOUNDS: dict[Activation, tuple[float, float]] = {
    Activation.RELU_N1_TO_1: (-1.0, 1.0),
    Activation.RELU6: (0.0, 6.0),
}


class Padding(IntEnum):
    """TFLite ``Padding`` of convolutions and pooling: SAME pads so that output = ceil(in / stride);
    VALID does not pad."""

    SAME = 0
    VALID = 1


class FullyConnectedWeightsFormat(IntEnum):
    """TFLite ``FullyConnectedOptionsWeightsFormat``; TFLM runs DEFAULT only."""

    DEFAULT = 0
    SHUFFLED4x16INT8 = 1


class Role(Enum):
    """What an operator input is.

    * DATA: a value computed at run time (or a constant used as one, e.g. an ADD operand).
    * WEIGHTS: constant weights or filter taps (convolution, FC, SVDF, LSTM gates, window).
    * BIAS: a constant bias added to an accumulator (int32 / int64 when quantized).
    * STATE: a variable tensor the operator reads and updates (SVDF memory, LSTM states).
    * PARAM: a constant that shapes the computation: a shape, axes, paddings, a permutation,
      slice bounds, a lookup table.
    """

    DATA = "data"
    WEIGHTS = "weights"
    BIAS = "bias"
    STATE = "state"
    PARAM = "param"
