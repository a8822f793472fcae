"""The interface between operators and generated C.

An :class:`OpEmitter` is registered per operator name. For each operator the compiler asks it for
the planner's :class:`~microforge.planner.lifetimes.OpMemory` (view, in-place, scratch), then calls
``emit`` with an :class:`EmitContext` through which it declares constant data (flash), a params
struct and the kernel call. The runtime kernel's ``prepare`` params are handed in, so C and numpy
use one parameter computation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from microforge.backends.c.cdata import c_float, c_int, c_values, ctype
from microforge.errors import UnsupportedOpError
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.registry import OpContext


@dataclass
class ConstArray:
    symbol: str
    ctype: str
    values: str
    count: int
    nbytes: int
    align: int = 0  # bytes (0: the type's own alignment)


@dataclass
class EmitContext:
    """Collects what one operator contributes to the generated C file."""

    ctx: OpContext
    pointer: Any  # callable: tensor index -> C pointer expression
    scratch_expr: str | None = None
    prefix: str = ""
    consts: list[ConstArray] = field(default_factory=list)
    structs: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    state: list[tuple[str, str, int, str]] = field(default_factory=list)  # (symbol, ctype, count, reset)
    params_name: str | None = None  # the params struct's symbol (default: prefix_params)

    def const(self, hint: str, array: np.ndarray, dtype=None) -> str:
        """Declare ``static const`` data; returns its symbol."""
        arr = np.asarray(array if dtype is None else np.asarray(array).astype(dtype))
        symbol = f"{self.prefix}_{hint}"
        count = max(arr.size, 1)
        values = c_values(arr) if arr.size else "0"
        self.consts.append(ConstArray(symbol, ctype(arr.dtype), values, count, count * arr.itemsize))
        return symbol

    def shared_const(self, symbol: str, array: np.ndarray, align: int = 0) -> str:
        """Declare ``static const`` data under a model-wide ``symbol`` (declared once however many
        operators ask for it), aligned to ``align`` bytes; returns the symbol."""
        arr = np.asarray(array)
        count = max(arr.size, 1)
        values = c_values(arr) if arr.size else "0"
        self.consts.append(ConstArray(symbol, ctype(arr.dtype), values, count, count * arr.itemsize,
                                      align))
        return symbol

    def const_by_variant(self, hint: str, array: np.ndarray, guard: str, variant: np.ndarray) -> str:
        """``static const`` data laid out one way for the portable kernel and another for a kernel
        variant (``#if guard``, e.g. ``MF_USE_DSP``): the same type and element count, so each
        build holds exactly one of the two in flash."""
        return self.const_by_variants(hint, array, [(guard, variant)])

    def const_by_variants(self, hint: str, array: np.ndarray, variants: list[tuple[str, np.ndarray]]) -> str:
        """Like :meth:`const_by_variant` with several variants, the first true guard winning
        (``#if MF_USE_MVE`` ... ``#elif MF_USE_DSP`` ... ``#else`` portable)."""
        arr = np.asarray(array)
        branches = []
        for guard, variant in variants:
            alt = np.asarray(variant)
            if arr.size != alt.size or arr.dtype != alt.dtype or not arr.size:
                raise ValueError(f"{hint}: the variant layout must have the same type and size")
            branches.append(f"#{'el' if branches else ''}if {guard}\n    {c_values(alt)}\n")
        symbol = f"{self.prefix}_{hint}"
        values = "\n" + "".join(branches) + f"#else\n    {c_values(arr)}\n#endif\n"
        self.consts.append(ConstArray(symbol, ctype(arr.dtype), values, arr.size, arr.nbytes))
        return symbol

    def params(self, struct_type: str, fields: dict[str, Any]) -> str:
        """Declare ``static const struct_type prefix_params = {...}``; returns ``&symbol``."""
        symbol = self.params_name or f"{self.prefix}_params"
        body = ",\n".join(f"    .{k} = {_literal(v)}" for k, v in fields.items())
        self.structs.append(f"static const {struct_type} {symbol} = {{\n{body}\n}};")
        return f"&{symbol}"

    def call(self, statement: str) -> None:
        self.statements.append(statement)

    def use(self, *sources: str) -> None:
        """Kernel source files (in backends/c/portable/, without extension) this operator needs."""
        self.sources.update(sources)

    def ptr(self, tensor_index: int) -> str:
        return self.pointer(tensor_index)

    def input_ptr(self, i: int) -> str:
        return self.ptr(self.ctx.op.inputs[i])

    def output_ptr(self, i: int = 0) -> str:
        return self.ptr(self.ctx.op.outputs[i])

    def scratch(self) -> str:
        if self.scratch_expr is None:
            raise RuntimeError(f"{self.prefix}: scratch used but not requested in memory()")
        return self.scratch_expr

    def state_buffer(self, hint: str, dtype, count: int, reset_value: float = 0) -> str:
        """Static RAM that persists across invokes, restored by ``NAME_reset``."""
        symbol = f"{self.prefix}_{hint}"
        value = c_float(reset_value) if np.dtype(dtype).kind == "f" else str(int(reset_value))
        self.state.append((symbol, ctype(dtype), int(count), value))
        return symbol


class Raw(str):
    """A params field value written as-is (a symbol, NULL, an expression)."""


def _literal(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "NULL"
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (float, np.floating)):
        return c_float(float(v))
    if isinstance(v, (int, np.integer)):
        return c_int(int(v), np.int32) if -(1 << 31) <= int(v) < (1 << 31) else c_int(v, np.int64)
    return str(v)


class OpEmitter:
    """Base class: override ``emit`` (and ``memory`` when the operator can run in place or needs
    scratch)."""

    ops: ClassVar[tuple[str, ...]] = ()

    def memory(self, ctx: OpContext, params: Any) -> OpMemory:
        return OpMemory()

    def emit(self, ctx: OpContext, params: Any, e: EmitContext) -> None:
        raise NotImplementedError


_EMITTERS: dict[str, OpEmitter] = {}


def c_emitter(*names: str):
    def deco(cls: type[OpEmitter]) -> type[OpEmitter]:
        cls.ops = tuple(names)
        inst = cls()
        for n in names:
            _EMITTERS[n] = inst
        return cls

    return deco


def emitter_for(ctx: OpContext) -> OpEmitter:
    from microforge.backends.c import ops  # noqa: F401  (registers every emitter)

    found = _EMITTERS.get(ctx.op.opcode)
    if found is None:
        raise UnsupportedOpError(
            f"operator {ctx.index} ({ctx.op.opcode}) has no C kernel yet; "
            "it runs in the Python runtime only"
        )
    return found


def c_supported_ops() -> list[str]:
    from microforge.backends.c import ops  # noqa: F401

    return sorted(_EMITTERS)
