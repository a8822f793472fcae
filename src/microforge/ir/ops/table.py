"""The operator table: one :class:`OpDef` row per operator microforge knows.

Every operator the runtime registers has a row (tests/ir/test_ops.py checks it both ways, and the
C backend's emitters against ``no_c``). A row may also exist for an operator other layers need
facts about although the runtime cannot run it; it then says why (``no_runtime``).
"""

from __future__ import annotations

from microforge.ir.dtypes import TensorType
from microforge.ir.graph import Operator, Subgraph
from microforge.ir.ops import macs
from microforge.ir.ops.enums import Activation, FullyConnectedWeightsFormat, Padding, Role
from microforge.ir.ops.opdef import OpDef, QuantRule, broadcast_shape, same_shape

D, W, B, S, P = Role.DATA, Role.WEIGHTS, Role.BIAS, Role.STATE, Role.PARAM
_ACT = {"fused_activation_function": Activation}
_POOL = {"padding": Padding, **_ACT}
_CONV = {**_POOL, "quantized_bias_type": TensorType}
_FC = {**_ACT, "weights_format": FullyConnectedWeightsFormat, "quantized_bias_type": TensorType}

WEIGHTED = QuantRule("weighted")
PER_TENSOR_WEIGHTED = QuantRule("weighted", per_channel=False)  # PRELU's alpha, as TFLite quantizes it
FREE, FREE_INT8 = QuantRule("free"), QuantRule("free", int16=False)
SAME, SAME_INT8 = QuantRule("same"), QuantRule("same", int16=False)
SAME_MULTI = QuantRule("same", multi=True)
INT16_FIXED = (1 / 32768, 0)  # SOFTMAX, LOGISTIC and TANH outputs with int16 activations


def _fixed(scale: float, zero_point: int) -> QuantRule:
    return QuantRule("fixed", fixed8=(scale, zero_point), fixed16=INT16_FIXED)


def resize_shape(op: Operator, sg: Subgraph) -> tuple[int, ...]:
    """RESIZE_*: NHWC input, H and W from the constant int32 ``size`` input."""
    x, size = sg.tensors[op.inputs[0]], sg.tensors[op.inputs[1]]
    height, width = (int(v) for v in size.data)
    return (x.shape[0], height, width, x.shape[3])


def _binary(name: str, quant: QuantRule | None, fused: bool = True) -> OpDef:
    """An elementwise, broadcasting operator of two inputs."""
    return OpDef(name, (D, D), options=_ACT if fused else {}, fused_activation=fused,
                 shape=broadcast_shape, quant=quant)


def _unary(name: str, quant: QuantRule | None, **facts) -> OpDef:
    """An elementwise operator of one input."""
    return OpDef(name, (D,), shape=same_shape, quant=quant, **facts)


def _reduce(name: str, quant: QuantRule) -> OpDef:
    return OpDef(name, (D, P), quant=quant)


def _signal(name: str, *inputs: Role, no_c: str | None = None) -> OpDef:
    """A TFLM signal-library custom operator (options in FlexBuffers, read by its kernel)."""
    return OpDef(name, inputs or (D,), no_c=no_c)


_NOT_IN_FRONT_ENDS = "no C kernel yet: the micro_speech audio front ends do not use it"
_NPU_ONLY = ("an Ethos-U NPU subgraph (Vela's command stream): the C backend's registry has no "
             "emitter; `compile --target ethos-u*` hands it to the Ethos-U driver through the "
             "Ethos-U library generator (backends/ethos_u/library.py); the runtime emulates it")
_LSTM_INPUTS = (D,) + (W,) * 4 + (W,) * 4 + (W,) * 3 + (B,) * 4 + (W, B) + (S, S) + (W,) * 4

_ROWS = [
    _binary("ADD", FREE),
    OpDef("AVERAGE_POOL_2D", options=_POOL, fused_activation=True, quant=SAME),
    _unary("CAST", None, options={"in_data_type": TensorType, "out_data_type": TensorType}),
    OpDef("CONCATENATION", (D,), variadic=True, options=_ACT, quant=SAME_MULTI),
    OpDef("CONV_2D", (D, W, B), options=_CONV, fused_activation=True, weight_axis=0,
          mac_count=macs.conv_macs, quant=WEIGHTED),
    OpDef("DEPTHWISE_CONV_2D", (D, W, B), options=_POOL, fused_activation=True, weight_axis=3,
          mac_count=macs.depthwise_macs, quant=WEIGHTED),
    _unary("DEQUANTIZE", None),
    _binary("DIV", FREE_INT8),
    OpDef("EXPAND_DIMS", (D, P), quant=SAME),
    OpDef("FULLY_CONNECTED", (D, W, B), options=_FC, fused_activation=True, weight_axis=0,
          mac_count=macs.fully_connected_macs, quant=WEIGHTED),
    _unary("HARD_SWISH", FREE_INT8),
    _unary("LEAKY_RELU", FREE),
    _unary("LOGISTIC", _fixed(1 / 256, -128)),
    _binary("MAXIMUM", SAME_MULTI, fused=False),
    OpDef("MAX_POOL_2D", options=_POOL, fused_activation=True, quant=SAME),
    _reduce("MEAN", FREE),
    _binary("MINIMUM", SAME_MULTI, fused=False),
    _binary("MUL", FREE),
    OpDef("PAD", (D, P), quant=SAME),
    OpDef("PADV2", (D, P, P), quant=SAME),
    OpDef("PRELU", (D, W), shape=broadcast_shape, quant=PER_TENSOR_WEIGHTED),
    _unary("QUANTIZE", None),
    _reduce("REDUCE_MAX", SAME_INT8),
    _reduce("REDUCE_MIN", SAME_INT8),
    _unary("RELU", FREE, as_activation=Activation.RELU),
    _unary("RELU_N1_TO_1", None, as_activation=Activation.RELU_N1_TO_1,
           no_runtime="TFLM registers no RELU_N1_TO_1 kernel (tflite-micro refuses such a model); "
           "activation fusion folds a float one into its producer"),
    _unary("RELU6", SAME, as_activation=Activation.RELU6),
    OpDef("RESHAPE", (D, P), quant=SAME),
    OpDef("RESIZE_NEAREST_NEIGHBOR", (D, P), shape=resize_shape, quant=SAME),
    _unary("SOFTMAX", _fixed(1 / 256, -128)),
    _binary("SQUARED_DIFFERENCE", FREE, fused=False),
    OpDef("SQUEEZE", quant=SAME),
    OpDef("STRIDED_SLICE", (D, P, P, P), quant=SAME),
    _binary("SUB", FREE),
    _reduce("SUM", FREE),
    OpDef("SVDF", (D, W, W, B, S), options=_ACT, mac_count=macs.svdf_macs),
    _unary("TANH", _fixed(1 / 128, 0)),
    OpDef("TRANSPOSE", (D, P), quant=SAME),
    OpDef("TRANSPOSE_CONV", (P, W, D, B), options=_CONV, mac_count=macs.transpose_conv_macs,
          no_runtime="not implemented; its row gives reports the MAC count"),
    OpDef("UNIDIRECTIONAL_SEQUENCE_LSTM", _LSTM_INPUTS, options=_ACT, mac_count=macs.lstm_macs,
          quant=QuantRule("lstm", int16=False)),
    # Vela's custom operator: command stream, flash (encoded weights), scratch, fast scratch, IFMs.
    OpDef("ethos-u", (P, P, D, D, D), variadic=True, no_c=_NPU_ONLY),
    _signal("SignalDelay", no_c=_NOT_IN_FRONT_ENDS),
    _signal("SignalEnergy"),
    _signal("SignalFftAutoScale"),
    _signal("SignalFilterBank", D, W, W, P, P, P),
    _signal("SignalFilterBankLog"),
    _signal("SignalFilterBankSpectralSubtraction"),
    _signal("SignalFilterBankSquareRoot", D, D),
    _signal("SignalFramer", no_c=_NOT_IN_FRONT_ENDS),
    _signal("SignalIrfft", no_c=_NOT_IN_FRONT_ENDS),
    _signal("SignalOverlapAdd", no_c=_NOT_IN_FRONT_ENDS),
    _signal("SignalPCAN", D, D, P),
    _signal("SignalRfft"),
    _signal("SignalStacker", no_c=_NOT_IN_FRONT_ENDS),
    _signal("SignalWindow", D, W),
]

OPS: dict[str, OpDef] = {row.name: row for row in _ROWS}


def op_def(name: str) -> OpDef | None:
    """The row of operator ``name`` (a builtin name or a custom code); None for one not known."""
    return OPS.get(name)


def count_macs(op: Operator, subgraph: Subgraph) -> int:
    """Multiply-accumulates of one invoke of ``op`` (0 for an operator without a MAC count)."""
    row = op_def(op.opcode)
    return 0 if row is None else row.macs(op, subgraph)
