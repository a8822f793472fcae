"""The batched graph executor: prepares every operator once, then runs batches through them."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge.errors import InputError, ModelError, UnsupportedOpError
from microforge.ir import Graph, Subgraph, Tensor
from microforge.runtime import blas
from microforge.runtime.registry import (
    MODEL_FAULTS,
    Kernel,
    OpContext,
    guarded_prepare,
    lookup,
    model_fault,
)

CHUNK_BYTES = 8 * 1024 * 1024
# Runs whose largest activation over the batch is below this many bytes leave BLAS alone: their
# matrices are below OpenBLAS's own threading threshold, and limiting costs 10-50 us a call.
_BLAS_WORK = 16 * 1024


def default_threads() -> int:
    """``MICROFORGE_THREADS`` if set, else every core this process may use when BLAS threads can
    be limited during a run, else the cores left over by the BLAS threads (``blas.py``)."""
    env = os.environ.get("MICROFORGE_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return blas.default_workers()


@dataclass
class _Step:
    kernel: Kernel
    params: Any
    ctx: OpContext


def variable_initial_value(tensor: Tensor) -> int:
    """TFLM ``ResetVariableTensors``: int8 state is filled with its zero point, all else with 0."""
    if tensor.dtype == np.int8 and tensor.quant is not None:
        return tensor.zero_point
    return 0


class Executor:
    """Runs subgraph 0 of a graph. Inputs and outputs are canonical ``(B,) + shape`` arrays."""

    def __init__(self, graph: Graph, threads: int | None = None, exact_float: bool = True) -> None:
        """``exact_float=False`` lets float CONV_2D sum in BLAS order instead of TFLM's sequential
        order: not bit-exact with TFLM (float rounding differs), many times faster; the quantizer's
        calibration uses it for activation statistics."""
        self.graph = graph
        self.threads = default_threads() if threads is None else max(1, int(threads))
        self.subgraph: Subgraph = graph.main
        self.steps: list[_Step] = []
        missing = []
        for i, op in enumerate(self.subgraph.operators):
            kernel = lookup(op.opcode)
            if kernel is None:
                missing.append(f"{op.opcode} (operator {i})")
                continue
            ctx = OpContext(op=op, index=i, subgraph=self.subgraph, metadata=graph.metadata,
                            exact_float=exact_float)
            self.steps.append(_Step(kernel, guarded_prepare(kernel, ctx), ctx))
        if missing:
            raise UnsupportedOpError(
                "unsupported operator" + ("s: " if len(missing) > 1 else ": ") + ", ".join(missing)
                + "; see `microforge inspect` for the supported-op list"
            )
        self.variables = [
            i for i, t in enumerate(self.subgraph.tensors) if t.is_variable
        ]
        self._check_outputs()
        # operator state outside tensors (Kernel.initial_state), per step index
        self.op_state_init = {
            k: init for k, step in enumerate(self.steps)
            if (init := step.kernel.initial_state(step.params))
        }
        self._state: dict[int, np.ndarray] = {}
        self._op_state: dict[int, list[np.ndarray]] = {}
        self._state_batch: int | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_use = self._last_uses()
        self._largest = max(max((t.nbytes for t in self.subgraph.tensors if t.data is None),
                                default=1), 1)

    def _check_outputs(self) -> None:
        """Every model output is computed, an input, a variable or a constant (TFLM hands a
        constant output's buffer back as it is); anything else is a malformed model."""
        sg = self.subgraph
        known = set(sg.inputs) | set(self.variables)
        for step in self.steps:
            known.update(step.ctx.op.outputs)
        for i in sg.outputs:
            if i not in known and sg.tensors[i].data is None:
                raise ModelError(
                    f"model output tensor {i} ({sg.tensors[i].name!r}) is neither computed by an "
                    "operator, an input nor a constant; the model file is malformed"
                )

    def _output(self, i: int, values: dict[int, np.ndarray], batch: int) -> np.ndarray:
        """Output tensor ``i`` of a chunk: its computed value, else its constant per sample."""
        if i in values:
            return values[i]
        data = self.subgraph.tensors[i].data
        if data is None:  # listed among an operator's outputs past the ones its kernel writes
            raise ModelError(
                f"model output tensor {i} ({self.subgraph.tensors[i].name!r}) was not written: "
                "the operator listing it has more outputs than it computes; the model file is "
                "malformed"
            )
        return np.broadcast_to(data[None], (batch,) + data.shape).copy()

    def _last_uses(self) -> list[list[int]]:
        """Per step, the computed tensors no later step reads and that are not graph outputs:
        a chunk drops them after that step, so their memory is reused while still in cache."""
        keep = set(self.subgraph.outputs) | set(self.variables)
        last: dict[int, int] = {}
        for k, step in enumerate(self.steps):
            for t in list(step.ctx.op.inputs) + list(step.ctx.op.outputs):
                if t >= 0:
                    last[t] = k
        drops: list[list[int]] = [[] for _ in self.steps]
        for t, k in last.items():
            if t not in keep:
                drops[k].append(t)
        return drops

    @property
    def stateful(self) -> bool:
        return bool(self.variables or self.op_state_init)

    def reset(self) -> None:
        """Clear all variable tensors and operator state (TFLM ``ResetVariableTensors``)."""
        self._state = {}
        self._op_state = {}
        self._state_batch = None

    def _ensure_state(self, batch: int) -> None:
        if not self.stateful or self._state_batch == batch:
            return
        if self._state_batch is not None:
            raise InputError(
                f"this model keeps state for a batch of {self._state_batch}, got a batch of "
                f"{batch}; call reset() before changing the batch size"
            )
        for i in self.variables:
            t = self.subgraph.tensors[i]
            self._state[i] = np.full((batch,) + t.shape, variable_initial_value(t), dtype=t.dtype)
        for k, init in self.op_state_init.items():
            self._op_state[k] = [np.repeat(a[None], batch, axis=0) for a in init]
        self._state_batch = batch

    def _chunk_size(self) -> int:
        """Samples per chunk: the largest activation of a chunk stays near ``CHUNK_BYTES`` so
        kernels' temporaries stay in cache."""
        return max(1, CHUNK_BYTES // self._largest)

    def _chunks(self, batch: int) -> int:
        """Samples per chunk for a batch: at most ``_chunk_size()``, and with several threads a
        number of equal chunks that is a multiple of the thread count (no idle thread at the
        end)."""
        chunk = self._chunk_size()
        if self.threads > 1 and batch >= 2 * self.threads:
            count = -(-batch // chunk)
            count = -(-count // self.threads) * self.threads
            chunk = -(-batch // count)
        return chunk

    def _map(self, fn, items) -> list:
        """``fn`` over ``items`` on the executor's thread pool (made once, reused)."""
        items = list(items)
        workers = min(self.threads, len(items))
        if workers <= 1:
            return [fn(i) for i in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads)
        return list(self._pool.map(fn, items))

    def run(
        self, inputs: list[np.ndarray], keep_intermediates: bool = False
    ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
        """Run a batch, split into cache-sized chunks of independent samples; with ``threads`` > 1
        the chunks run on a thread pool (numpy releases the GIL inside its loops), BLAS limited
        meanwhile so that workers x BLAS threads stay within the cores (``blas.py``)."""
        batch = inputs[0].shape[0] if inputs else 1
        if batch * self._largest < _BLAS_WORK:  # too small for BLAS to start threads anyway
            return self._run_batch(inputs, batch, keep_intermediates)
        with blas.limited():  # one BLAS thread per worker: no oversubscription
            return self._run_batch(inputs, batch, keep_intermediates)

    def _run_batch(self, inputs: list[np.ndarray], batch: int, keep_intermediates: bool):
        self._ensure_state(batch)
        chunk = self._chunks(batch)
        if batch <= chunk:
            return self._run_chunk(inputs, slice(None), keep_intermediates)

        def one(i: int):
            return self._run_chunk([x[i : i + chunk] for x in inputs], slice(i, i + chunk),
                                   keep_intermediates)

        parts = self._map(one, range(0, batch, chunk))
        outputs = [np.concatenate([p[0][k] for p in parts]) for k in range(len(parts[0][0]))]
        values = {}
        if keep_intermediates:
            values = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
        return outputs, values

    def _run_chunk(
        self, inputs: list[np.ndarray], rows: slice, keep_intermediates: bool
    ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
        # IEEE float arithmetic as TFLM's C does it: an overflow to inf or a NaN from a model's
        # own values is a result, not a warning to print (numpy's error state is per thread)
        with np.errstate(all="ignore"):
            return self._run_ops(inputs, rows, keep_intermediates)

    def _run_ops(
        self, inputs: list[np.ndarray], rows: slice, keep_intermediates: bool
    ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
        sg = self.subgraph
        batch = inputs[0].shape[0] if inputs else 1
        values: dict[int, np.ndarray] = {}
        for idx, arr in zip(sg.inputs, inputs):
            values[idx] = arr
        for i in self.variables:
            values[i] = self._state[i][rows]  # a view: kernels update state in place
        for k, step in enumerate(self.steps):
            args = self._gather(step, values)
            args.extend(a[rows] for a in self._op_state.get(k, ()))  # views: updated in place
            outs = self._eval(step, args)
            for t_idx, arr in zip(step.ctx.op.outputs, outs):
                if arr.shape[0] != batch:
                    arr = np.broadcast_to(arr, (batch,) + arr.shape[1:])
                values[t_idx] = arr
            if not keep_intermediates:
                for t_idx in self._last_use[k]:
                    values.pop(t_idx, None)
        outputs = [self._output(i, values, batch) for i in sg.outputs]
        return outputs, (values if keep_intermediates else {})

    @staticmethod
    def _eval(step: _Step, args: list) -> list[np.ndarray]:
        """One kernel call; a Python error on a model validation let through is a ModelError."""
        try:
            return step.kernel.eval(step.params, args, step.ctx)
        except MODEL_FAULTS as exc:
            raise model_fault(step.ctx, "eval", exc) from None

    def _gather(self, step: _Step, values: dict[int, np.ndarray]) -> list[np.ndarray | None]:
        """An operator's input arrays: computed values, else constants as ``(1,) + shape``."""
        args: list[np.ndarray | None] = []
        unread = step.kernel.unread_inputs
        for k, t_idx in enumerate(step.ctx.op.inputs):
            if t_idx < 0 or k in unread:
                args.append(None)
            elif t_idx in values:
                args.append(values[t_idx])
            else:
                t = self.subgraph.tensors[t_idx]
                if t.data is None:
                    raise UnsupportedOpError(
                        f"operator {step.ctx.index} ({step.ctx.op.opcode}) reads tensor "
                        f"{t_idx} ({t.name!r}) which nothing produces"
                    )
                args.append(t.data[None])
        return args

    def run_sequence(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run T steps of B sequences: inputs ``(B, T) + shape``, outputs ``(B, T) + shape``,
        the same as T calls of ``run`` with ``x[:, t]`` (state carried along and kept).

        Without variable tensors every operator's state is its own (``Kernel.initial_state``),
        so the steps can go operator by operator: stateless operators take all B * T rows at
        once, only stateful ones loop over the T steps. Time is cut into chunks of about
        ``_chunk_size()`` rows. Models with variable tensors run step by step."""
        batch, steps = inputs[0].shape[:2]
        if self.variables:
            outs = [self.run([x[:, t] for x in inputs])[0] for t in range(steps)]
            return [np.stack([o[k] for o in outs], axis=1) for k in range(len(outs[0]))]
        self._ensure_state(batch)
        span = max(1, self._chunk_size() // max(batch, 1))
        with blas.limited():
            parts = [self._run_steps([x[:, t : t + span] for x in inputs])
                     for t in range(0, steps, span)]
        return [np.concatenate([p[k] for p in parts], axis=1) for k in range(len(parts[0]))]

    def _run_steps(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        batch, steps = inputs[0].shape[:2]
        rows = batch * steps
        values = {i: x.reshape((rows,) + x.shape[2:]) for i, x in zip(self.subgraph.inputs, inputs)}
        for k, step in enumerate(self.steps):
            args = self._gather(step, values)
            state = self._op_state.get(k)
            if state is None:
                outs = self._eval(step, args)
            else:  # one call per step, on that step's rows
                timed = [a.reshape((batch, steps) + a.shape[1:])
                         if a is not None and a.shape[0] == rows else None for a in args]
                per_step = [
                    self._eval(
                        step, [a if ta is None else ta[:, t] for a, ta in zip(args, timed)] + state
                    )
                    for t in range(steps)
                ]
                outs = [_join([o[j] for o in per_step], batch) for j in range(len(per_step[0]))]
            for t_idx, arr in zip(step.ctx.op.outputs, outs):
                if arr.shape[0] != rows:
                    arr = np.broadcast_to(arr, (rows,) + arr.shape[1:])
                values[t_idx] = arr
        outputs = [self._output(i, values, rows) for i in self.subgraph.outputs]
        return [o.reshape((batch, steps) + o.shape[1:]) for o in outputs]


def _join(per_step: list[np.ndarray], batch: int) -> np.ndarray:
    """Per-step outputs ``(B,) + shape`` (or ``(1,) + shape``) as ``(B * T,) + shape`` rows."""
    shape = per_step[0].shape[1:]
    stacked = np.stack([np.broadcast_to(o, (batch,) + shape) for o in per_step], axis=1)
    return stacked.reshape((-1,) + shape)
