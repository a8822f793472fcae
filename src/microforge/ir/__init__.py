"""The graph IR: tensors, operators, subgraphs and the model that holds them."""

from microforge.ir.graph import Graph, Operator, Signature, Subgraph, Tensor
from microforge.ir.quant import QuantParams

__all__ = ["Graph", "Operator", "QuantParams", "Signature", "Subgraph", "Tensor"]
