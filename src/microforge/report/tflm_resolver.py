"""Which ``MicroMutableOpResolver`` registration call TFLM needs for each operator.

The method names are TFLM's public API (``micro_mutable_op_resolver.h``); an operator maps to the
method whose name, lower-cased, equals the operator name without underscores (custom signal ops
without their ``Signal`` prefix).
"""

from __future__ import annotations

_METHODS = """
Abs Add AddN ArgMax ArgMin AssignVariable AveragePool2D BatchMatMul BatchToSpaceNd BroadcastArgs
BroadcastTo CallOnce Cast Ceil CircularBuffer Concatenation Conv2D Cos CumSum Decode Delay DepthToSpace
DepthwiseConv2D Dequantize DetectionPostprocess Div DynamicUpdateSlice EmbeddingLookup Energy Elu Equal
EthosU Exp ExpandDims FftAutoScale Fill FilterBank FilterBankLog FilterBankSquareRoot
FilterBankSpectralSubtraction Floor FloorDiv FloorMod Framer FullyConnected Gather GatherNd Greater
GreaterEqual HardSwish If Irfft L2Normalization L2Pool2D LeakyRelu Less LessEqual Log LogicalAnd
LogicalNot LogicalOr Logistic LogSoftmax Maximum MaxPool2D MirrorPad Mean Minimum Mul Neg NotEqual
OverlapAdd Pack Pad PadV2 PCAN Prelu Quantize ReadVariable ReduceAll ReduceMax ReduceMin Relu Relu6
Reshape ResizeBilinear ResizeNearestNeighbor ReverseV2 Rfft Round Rsqrt SelectV2 Shape Sin Slice
Softmax SpaceToBatchNd SpaceToDepth Split SplitV Squeeze Sqrt Square SquaredDifference StridedSlice
Stacker Sub Sum Svdf Tanh TransposeConv Transpose Unpack UnidirectionalSequenceLSTM VarHandle While
Window ZerosLike
""".split()

_BY_KEY = {m.lower(): m for m in _METHODS}


def resolver_method(opcode: str, custom: bool) -> str | None:
    """``"AddConv2D"`` for ``CONV_2D``; None when TFLM has no registration for the operator."""
    key = opcode.replace("_", "").replace("-", "").lower()
    if custom and key.startswith("signal"):
        key = key[len("signal"):]
    name = _BY_KEY.get(key)
    return f"Add{name}" if name else None


def resolver_snippet(methods: list[str]) -> str:
    """C++ lines registering ``methods`` in a resolver sized exactly for them."""
    lines = [f"static tflite::MicroMutableOpResolver<{len(methods)}> op_resolver;"]
    lines += [f"op_resolver.{m}();" for m in methods]
    return "\n".join(lines)
