"""Operator registry: one :class:`Kernel` per operator name, registered with :func:`register`.

A kernel has two steps, like a TFLM kernel:

* ``prepare(ctx) -> params``: all parameter math (multipliers, shifts, activation ranges, constant
  weights reshaped for the loop), done once per model load. ``params`` is a public dataclass of the
  kernel's module (``None`` for an operator without parameters), documented field by field with the
  TFLM Prepare it mirrors. The C code generator consumes the same object, so it is a contract
  between the runtime and the C backend; fields only the numpy runtime uses (weights in a BLAS
  dtype, lookup tables, evaluation plans) are marked as such in the docstrings.
* ``eval(params, inputs, ctx) -> outputs``: only the computation.

Arrays in ``eval`` carry a leading batch axis: a non-constant input of tensor shape S arrives as
``(B,) + S``; a constant input arrives as ``(1,) + S``; a variable (state) tensor arrives as its
``(B,) + S`` state buffer, which the kernel updates in place. Outputs are returned as
``(B,) + S`` arrays of the output tensor's dtype.

Operator state outside tensors (TFLM keeps it in an operator's persistent buffers, e.g. the signal
library's noise estimates and FIFOs): ``initial_state(params)`` returns the state of ONE sample as a
list of arrays. The executor keeps a ``(B,) + shape`` copy of each, appends them (the current rows)
to ``eval``'s inputs after the operator's own inputs, and restores the initial values on
``reset()``, like TFLM calls an operator's ``reset`` from ``ResetVariableTensors``. ``eval``
updates them in place, like variable tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from microforge.errors import ModelError, UnsupportedOpError
from microforge.ir import Operator, Subgraph, Tensor


@dataclass
class OpContext:
    """What a kernel may look at while preparing: the operator and its tensors."""

    op: Operator
    index: int
    subgraph: Subgraph
    metadata: dict[str, bytes] | None = None  # the model's metadata (the executor's main subgraph)
    exact_float: bool = True  # False: float kernels may sum in BLAS order (calibration only)

    @property
    def options(self) -> dict[str, Any]:
        return self.op.options

    @property
    def inputs(self) -> list[Tensor | None]:
        return [self.subgraph.tensor(i) for i in self.op.inputs]

    @property
    def outputs(self) -> list[Tensor]:
        return [self.subgraph.tensors[i] for i in self.op.outputs]

    def input(self, i: int) -> Tensor | None:
        """The i-th input tensor, or None when absent (optional input or index -1)."""
        if i >= len(self.op.inputs):
            return None
        return self.subgraph.tensor(self.op.inputs[i])

    def output(self, i: int = 0) -> Tensor:
        return self.subgraph.tensors[self.op.outputs[i]]

    def unsupported(self, why: str) -> UnsupportedOpError:
        """An error naming this operator, to raise from ``prepare``."""
        return UnsupportedOpError(f"operator {self.index} ({self.op.opcode}): {why}")


class Kernel:
    """Base class of all kernels. Subclasses set ``ops`` through :func:`register`."""

    ops: ClassVar[tuple[str, ...]] = ()
    #: input positions the kernel never reads (memory it is handed, such as the Ethos-U scratch
    #: areas): ``eval`` gets None there, and nothing needs to produce them
    unread_inputs: ClassVar[tuple[int, ...]] = ()

    def prepare(self, ctx: OpContext) -> Any:
        return None

    def eval(self, params: Any, inputs: list[np.ndarray | None], ctx: OpContext) -> list[np.ndarray]:
        raise NotImplementedError

    def initial_state(self, params: Any) -> list[np.ndarray]:
        """The operator's own state for one sample (empty for stateless operators)."""
        return []


_REGISTRY: dict[str, Kernel] = {}


def register(*names: str):
    """Class decorator: register a kernel class for one or more operator names."""

    def deco(cls: type[Kernel]) -> type[Kernel]:
        cls.ops = tuple(names)
        instance = cls()
        for name in names:
            if name in _REGISTRY:
                raise RuntimeError(f"kernel for {name} registered twice")
            _REGISTRY[name] = instance
        return cls

    return deco


def lookup(opcode: str) -> Kernel | None:
    from microforge.runtime import kernels  # noqa: F401  (imports register every kernel)

    return _REGISTRY.get(opcode)


def supported_ops() -> list[str]:
    from microforge.runtime import kernels  # noqa: F401

    return sorted(_REGISTRY)


@dataclass
class PreparedOp:
    """One operator with its kernel's ``prepare`` result: what a backend needs to emit it."""

    ctx: OpContext
    kernel: Kernel
    params: Any


def prepare_operator(subgraph: Subgraph, index: int) -> PreparedOp:
    """Run operator ``index``'s ``prepare`` (``UnsupportedOpError`` when no kernel exists)."""
    op = subgraph.operators[index]
    kernel = lookup(op.opcode)
    if kernel is None:
        raise UnsupportedOpError(
            f"unsupported operator: {op.opcode} (operator {index}); see `microforge inspect` for "
            "the supported-op list"
        )
    ctx = OpContext(op=op, index=index, subgraph=subgraph)
    return PreparedOp(ctx, kernel, guarded_prepare(kernel, ctx))


# What a kernel's parameter math raises on tensors and options no converter writes.
MODEL_FAULTS = (IndexError, KeyError, ValueError, TypeError, AttributeError, OverflowError,
                ZeroDivisionError, FloatingPointError)


def model_fault(ctx: OpContext, step: str, exc: Exception) -> ModelError:
    """The one-line error for a kernel that failed on a model validation let through."""
    return ModelError(
        f"operator {ctx.index} ({ctx.op.opcode}): its tensors or options are inconsistent "
        f"({step}: {type(exc).__name__}: {exc}); the file is corrupt or was not made by a "
        "TFLite converter"
    )


def guarded_prepare(kernel: Kernel, ctx: OpContext) -> Any:
    """``kernel.prepare(ctx)``; a Python error in the parameter math (a model the reader's
    validation let through) becomes a :class:`ModelError` naming the operator.

    Floating-point overflow, division by zero and invalid operations in the parameter math give
    inf / NaN silently, as TFLM's C does (e.g. SVDF's ``float(s_state * s_wt / s_out)`` of finite
    but extreme scales): no numpy warning is printed, and ``quantize_multiplier`` refuses a
    non-finite multiplier with a ModelError."""
    try:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return kernel.prepare(ctx)
    except ModelError as exc:  # from shared helpers (quantize_multiplier): say which operator
        if str(exc).startswith("operator "):
            raise
        raise type(exc)(f"operator {ctx.index} ({ctx.op.opcode}): {exc}") from None
    except MODEL_FAULTS as exc:
        raise model_fault(ctx, "prepare", exc) from None


def prepare_supported(subgraph: Subgraph, metadata: dict[str, bytes] | None = None) -> None:
    """Prepare every operator that has a kernel, as ``load`` does, and drop the results: what
    ``inspect`` runs so that it rejects the files ``load`` rejects (operators without a kernel
    are left for it to list). ``metadata``: the model's, which some kernels read (``ethos-u``)."""
    for index, op in enumerate(subgraph.operators):
        kernel = lookup(op.opcode)
        if kernel is not None:
            guarded_prepare(kernel, OpContext(op=op, index=index, subgraph=subgraph,
                                              metadata=metadata))
