"""The operator vocabulary: one :class:`OpDef` row per operator (:data:`OPS`, :func:`op_def`) and
the enums operator options carry. Every layer above the IR reads its facts about an operator here:
the TFLite reader decodes enum options through the rows, passes find fusable operators and weight
axes, the quantizer derives its rules, reports count MACs, and the tests hold the runtime and the
C backend to the rows."""

from microforge.ir.ops.enums import (
    ACTIVATION_BOUNDS,
    Activation,
    FullyConnectedWeightsFormat,
    Padding,
    Role,
)
from microforge.ir.ops.opdef import OpDef, QuantRule
from microforge.ir.ops.table import OPS, count_macs, op_def

__all__ = ["ACTIVATION_BOUNDS", "OPS", "Activation", "FullyConnectedWeightsFormat", "OpDef", "Padding",
           "QuantRule", "Role", "count_macs", "op_def"]
