"""Graph IR: a Graph (one .tflite file) holds Subgraphs; a Subgraph holds Tensors and Operators
in execution order.

Operators refer to tensors by index into their subgraph's tensor list (-1 = optional input absent),
exactly like TFLite, so reading and writing preserve indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from microforge.ir.dtypes import tensor_type_of
from microforge.ir.quant import QuantParams


@dataclass
class Tensor:
    """A tensor. ``data`` is the constant value (read-only numpy array) or None for activations."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    quant: QuantParams | None = None
    data: np.ndarray | None = None
    is_variable: bool = False
    shape_signature: tuple[int, ...] | None = None
    has_rank: bool = False
    type_name: str = ""  # element type ("INT8", "INT4", ...: ir.dtypes); derived from dtype when empty

    def __post_init__(self) -> None:
        self.shape = tuple(int(d) for d in self.shape)
        self.dtype = np.dtype(self.dtype)
        if not self.type_name:
            self.type_name = tensor_type_of(self.dtype)

    @property
    def is_constant(self) -> bool:
        return self.data is not None and not self.is_variable

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def scale(self) -> float:
        """Per-tensor scale (1.0 when not quantized)."""
        return self.quant.scalar_scale if self.quant is not None and self.quant.is_quantized else 1.0

    @property
    def zero_point(self) -> int:
        return self.quant.scalar_zero_point if self.quant is not None else 0


@dataclass
class Operator:
    """An operator. ``opcode`` is the builtin name (``"CONV_2D"``) or the custom code of a custom op.

    ``options`` holds the decoded builtin options (snake_case keys); enum-valued fields hold the IR
    enums of :mod:`microforge.ir.ops` (``Activation.RELU``). ``options_type`` names the TFLite
    options table a read operator came with (``"NONE"``: it had none); it is None for operators
    made in code, which the writer gives their operator's table. Custom operators keep their raw
    ``custom_options`` bytes.
    """

    opcode: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)
    options_type: str | None = None
    custom: bool = False
    custom_options: bytes | None = None
    custom_options_format: int = 0
    version: int = 1
    intermediates: list[int] = field(default_factory=list)


@dataclass
class Subgraph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    name: str = ""

    def tensor(self, index: int) -> Tensor | None:
        return None if index < 0 else self.tensors[index]


@dataclass
class Signature:
    key: str
    subgraph_index: int
    inputs: dict[str, int]
    outputs: dict[str, int]


@dataclass(frozen=True)
class SourceLayout:
    """How a model read from another framework lays out its inputs and outputs.

    The IR is channels-last, as TFLM runs it; an ONNX model's own inputs may be NCHW. For the
    main subgraph's k-th input, ``input_perms[k]`` is the permutation with
    ``ir_array = source_array.transpose(perm)`` (None: same layout); ``output_perms[k]`` is the
    same relation for the k-th output, so ``source = ir.transpose(numpy.argsort(perm))``. Axis 0
    (the batch) is never moved. The ``.tflite`` writer drops this: a converted model is
    channels-last.
    """

    format: str
    input_perms: tuple[tuple[int, ...] | None, ...] = ()
    output_perms: tuple[tuple[int, ...] | None, ...] = ()

    def input_perm(self, k: int) -> tuple[int, ...] | None:
        return self.input_perms[k] if k < len(self.input_perms) else None

    def output_perm(self, k: int) -> tuple[int, ...] | None:
        return self.output_perms[k] if k < len(self.output_perms) else None


def source_shape(ir_shape: tuple[int, ...], perm: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape in the source model's own layout of a tensor of IR shape ``ir_shape``."""
    if perm is None or len(perm) != len(ir_shape):
        return tuple(ir_shape)
    inverse = np.argsort(perm)
    return tuple(int(ir_shape[int(j)]) for j in inverse)


def batch_perm(perm: tuple[int, ...], inverse: bool = False) -> tuple[int, ...]:
    """``perm`` for arrays with one more leading (batch) axis; ``inverse`` undoes it."""
    p = np.argsort(perm) if inverse else np.asarray(perm)
    return (0,) + tuple(int(j) + 1 for j in p)


@dataclass
class Graph:
    """A whole model file: subgraph 0 is the one that runs. ``source`` is set by readers of
    formats whose layout differs from the IR's (ONNX)."""

    subgraphs: list[Subgraph]
    description: str = ""
    version: int = 3
    metadata: dict[str, bytes] = field(default_factory=dict)
    signatures: list[Signature] = field(default_factory=list)
    source: SourceLayout | None = None

    @property
    def main(self) -> Subgraph:
        return self.subgraphs[0]
