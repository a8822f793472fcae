"""The graph IR: tensors, operators, subgraphs and the model that holds them; the operator
vocabulary (:mod:`microforge.ir.ops`)."""

from microforge.ir.graph import (
    Graph,
    Operator,
    Signature,
    SourceLayout,
    Subgraph,
    Tensor,
    batch_perm,
    source_shape,
)
from microforge.ir.ops import OPS, Activation, OpDef, Padding, Role, op_def
from microforge.ir.quant import QuantParams

__all__ = ["OPS", "Activation", "Graph", "OpDef", "Operator", "Padding", "QuantParams", "Role",
           "Signature", "SourceLayout", "Subgraph", "Tensor", "batch_perm", "op_def",
           "source_shape"]
