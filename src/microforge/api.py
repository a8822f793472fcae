"""Public Python API: :func:`load`, :class:`Model`, :func:`save`, :func:`quantize` and the drop-in
:class:`Interpreter`."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from microforge.errors import InputError, MicroforgeError, ModelError
from microforge.frontends import read_model
from microforge.ir import Graph, Tensor, batch_perm, source_shape
from microforge.ir.ops import count_macs
from microforge.quantize import DEFAULT_METHOD, Quantized, QuantReport, quantize_graph
from microforge.quantize.data import CalibrationSource, load_calibration
from microforge.quantize.report import compare
from microforge.runtime.interpreter import Executor
from microforge.targets.hostlib import PARALLEL_BATCH, CompiledPath, mode_of


@dataclass(frozen=True)
class TensorInfo:
    """Description of a model input or output."""

    name: str
    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @classmethod
    def of(cls, index: int, t: Tensor) -> TensorInfo:
        return cls(t.name, index, t.shape, t.dtype, t.scale if t.quant else 0.0, t.zero_point)


class Model:
    """A loaded model, ready to run on whole batches.

    ``run`` accepts, per input, either one sample (the tensor's exact shape), a batch with a new
    leading axis (``(B,) + shape``) or, when the tensor's first dimension is 1, a batch that replaces
    it (``(B,) + shape[1:]``). Outputs come back in the same form.

    A model read from a framework with another layout (ONNX's NCHW) takes and returns arrays in
    that layout: ``inputs`` and ``outputs`` show those shapes, and ``run`` transposes to and from
    the channels-last IR. ``intermediates`` are in the IR's layout.
    """

    def __init__(self, graph: Graph, threads: int | None = None,
                 compiled: bool | None = None) -> None:
        self.graph = graph
        self._executor = Executor(graph, threads=threads)
        macs = sum(count_macs(op, graph.main) for op in graph.main.operators)
        self._compiled = CompiledPath(graph, mode_of(compiled), macs, self._executor.stateful)
        sg = graph.main
        layout = graph.source
        self._in_perms = [layout.input_perm(k) if layout else None for k in range(len(sg.inputs))]
        self._out_perms = [layout.output_perm(k) if layout else None
                           for k in range(len(sg.outputs))]
        self.inputs = [_in_layout(TensorInfo.of(i, sg.tensors[i]), p)
                       for i, p in zip(sg.inputs, self._in_perms)]
        self.outputs = [_in_layout(TensorInfo.of(i, sg.tensors[i]), p)
                        for i, p in zip(sg.outputs, self._out_perms)]

    @property
    def stateful(self) -> bool:
        """True when the model keeps state between calls (SVDF, LSTM, variable tensors)."""
        return self._executor.stateful

    @property
    def compiled(self) -> str:
        """Where small calls run: the compiled library's state (``ready``, ``building``, ``not
        built``, ``off`` or ``unavailable: why``; docs/runtime.md)."""
        return self._compiled.status

    def wait_compiled(self) -> str:
        """Wait for a background build of the compiled library to finish; its state."""
        self._compiled.wait()
        return self._compiled.status

    def reset(self) -> None:
        """Clear all state (variable tensors), like TFLM's ``ResetVariableTensors``."""
        self._executor.reset()
        self._compiled.reset()

    def run(
        self, x: Any, intermediates: bool = False
    ) -> list[np.ndarray] | tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """Run a batch. Returns the outputs, and with ``intermediates=True`` also every tensor by name."""
        fast = self._compiled.fast  # one sample, compiled: the cheapest call there is
        if fast is not None and not intermediates:
            outs = fast(x)
            if outs is not None:
                return outs
        arrays = self._arrange(x)
        canonical, mode, batch = self._canonical(arrays)
        canonical = [a if p is None else np.ascontiguousarray(a.transpose(batch_perm(p)))
                     for a, p in zip(canonical, self._in_perms)]
        outs, values = self._execute(canonical, mode, intermediates)
        outs = [o if p is None else np.ascontiguousarray(o.transpose(batch_perm(p, inverse=True)))
                for o, p in zip(outs, self._out_perms)]
        outs = [self._shape_output(o, info, mode) for o, info in zip(outs, self.outputs)]
        if not intermediates:
            return outs
        tensors = self.graph.main.tensors
        named = {}
        for idx, arr in values.items():
            name = tensors[idx].name or f"tensor_{idx}"
            named[name] = self._shape_output(np.array(arr), TensorInfo.of(idx, tensors[idx]), mode)
        return outs, named

    def _execute(self, canonical: list[np.ndarray], mode: str, intermediates: bool
                 ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
        """The numpy runtime, or the compiled library (``targets/hostlib.py``) where it serves
        the call: both give the same bytes."""
        path = self._compiled
        batch = canonical[0].shape[0] if canonical else 1
        use = not intermediates and path.wants(batch) and path.library is not None
        if path.stateful:
            if path.stream is None:
                path.start_stream(use, batch)
            if path.stream == "c":
                if intermediates:
                    raise InputError("this stream runs in the compiled library, which keeps no "
                                     "intermediates; call reset() first")
                assert path.library is not None and path.states is not None
                if batch != len(path.states):
                    raise InputError(f"this model keeps state for a batch of {len(path.states)}, "
                                     f"got a batch of {batch}; call reset() before changing the "
                                     "batch size")
                workers = self._executor.threads if batch >= PARALLEL_BATCH else 1
                return path.library.run(canonical, batch, workers, path.states), {}
            return self._executor.run(canonical, keep_intermediates=intermediates)
        start = time.perf_counter()
        if use:
            workers = self._executor.threads if batch >= PARALLEL_BATCH else 1
            result = path.library.run(canonical, batch, workers), {}
        else:
            result = self._executor.run(canonical, keep_intermediates=intermediates)
        if not intermediates:
            path.record(use, time.perf_counter() - start, batch)
        return result

    def _arrange(self, x: Any) -> list[np.ndarray]:
        n = len(self.inputs)
        if isinstance(x, Mapping):
            by_name = {info.name: k for k, info in enumerate(self.inputs)}
            unknown = [k for k in x if k not in by_name and not (isinstance(k, int) and k < n)]
            if unknown:
                raise InputError(
                    f"unknown input name(s) {unknown}; the model's inputs are "
                    f"{[i.name for i in self.inputs]}"
                )
            ordered: list[Any] = [None] * n
            for k, v in x.items():
                ordered[by_name[k] if k in by_name else k] = v
            missing = [self.inputs[k].name for k, v in enumerate(ordered) if v is None]
            if missing:
                raise InputError(f"missing input(s) {missing}")
            items = ordered
        elif n == 0 and (x is None or (isinstance(x, (list, tuple)) and not x)):
            items = []
        elif isinstance(x, np.ndarray):
            items = [x]
        elif isinstance(x, (list, tuple)) and len(x) == n and (
            n > 1 or isinstance(x[0], np.ndarray)
        ):
            items = list(x)
        else:
            items = [x]
        if len(items) != n:
            raise InputError(f"the model has {n} inputs, got {len(items)} arrays")
        out = []
        for item, info in zip(items, self.inputs):
            if isinstance(item, np.ndarray):
                arr = item
            else:
                try:
                    arr = np.asarray(item)
                except ValueError as exc:
                    raise InputError(f"input {info.name!r}: not an array ({exc})") from None
                if arr.dtype.kind in "iub" and np.dtype(info.dtype).kind in "iu":
                    limits = np.iinfo(info.dtype)
                    if arr.size and (arr.min() < limits.min or arr.max() > limits.max):
                        raise InputError(
                            f"input {info.name!r}: values outside the {info.dtype} range"
                        )
                    arr = arr.astype(info.dtype)
                elif arr.dtype.kind == "f" and np.dtype(info.dtype).kind == "f":
                    arr = arr.astype(info.dtype)
            if arr.dtype != info.dtype:
                hint = ""
                if np.dtype(info.dtype).kind in "iu" and arr.dtype.kind == "f":
                    hint = (
                        f"; quantize it first: q = round(x / {info.scale:g}) + {info.zero_point}"
                    )
                raise InputError(
                    f"input {info.name!r} expects dtype {np.dtype(info.dtype).name}, got "
                    f"{arr.dtype.name}{hint}"
                )
            out.append(arr)
        return out

    def _canonical(self, arrays: list[np.ndarray]) -> tuple[list[np.ndarray], list[str], int]:
        canonical, modes, batches = [], [], set()
        for arr, info in zip(arrays, self.inputs):
            shape = tuple(info.shape)
            if arr.shape == shape:
                canonical.append(arr[None])
                modes.append("single")
                batches.add(1)
            elif arr.shape[1:] == shape and arr.ndim == len(shape) + 1:
                canonical.append(arr)
                modes.append("prepend")
                batches.add(arr.shape[0])
            elif shape and shape[0] == 1 and arr.ndim == len(shape) and arr.shape[1:] == shape[1:]:
                canonical.append(arr.reshape((arr.shape[0],) + shape))
                modes.append("replace")
                batches.add(arr.shape[0])
            else:
                raise InputError(
                    f"input {info.name!r} expects shape {list(shape)} (or a batch "
                    f"[B, {', '.join(map(str, shape))}]), got {list(arr.shape)}"
                )
        if len(batches) > 1:
            raise InputError(f"inputs have different batch sizes {sorted(batches)}")
        if len(set(modes)) > 1:
            raise InputError(f"inputs mix single samples and batches: {modes}")
        batch = batches.pop() if batches else 1
        if batch == 0:
            raise InputError("empty batch (leading axis of size 0)")
        return canonical, modes[0] if modes else "single", batch

    @staticmethod
    def _shape_output(arr: np.ndarray, info: TensorInfo, mode: str) -> np.ndarray:
        if mode == "single":
            return arr[0]
        if mode == "replace" and info.shape and info.shape[0] == 1:
            return arr.reshape((arr.shape[0],) + tuple(info.shape[1:]))
        return arr


def _in_layout(info: TensorInfo, perm: tuple[int, ...] | None) -> TensorInfo:
    """``info`` with its shape in the source model's layout."""
    return info if perm is None else replace(info, shape=source_shape(info.shape, perm))


class QuantizedModel(Model):
    """A :class:`~microforge.Model` made by :func:`quantize`; ``report()`` measures it against the
    float model, ``kept_float`` lists the operators left in float."""

    def __init__(self, result: Quantized) -> None:
        super().__init__(result.graph)
        self.float_graph = result.float_graph
        self.kept_float = result.kept_float
        self.settings = result.settings
        self.details = result.details
        self.mixed = result.mixed
        self._origin = result.origin
        self._calibration = result.calibration
        self._report: QuantReport | None = None

    def report(self, data: CalibrationSource | None = None) -> QuantReport:
        """SQNR / cosine per tensor, per output and top-1 agreement against the float model, on
        ``data`` (default: the calibration set)."""
        if data is None:
            if self._report is None:
                self._report = self._compare(self._calibration)
            return self._report
        inputs = [self.float_graph.main.tensors[i] for i in self.float_graph.main.inputs]
        layout = self.float_graph.source
        perms = [layout.input_perm(k) for k in range(len(inputs))] if layout else []
        return self._compare(load_calibration(data, inputs, perms))

    def _compare(self, data: list[np.ndarray]) -> QuantReport:
        return compare(self.float_graph, self.graph, self._origin, data, self.kept_float,
                       self.settings, self.details, self.mixed)



def load(source: str | os.PathLike | bytes, threads: int | None = None,
         compiled: bool | None = None) -> Model:
    """Load a model from a path or bytes and prepare it to run. Large batches run on ``threads``
    threads (default: ``MICROFORGE_THREADS``, else every available core). ``compiled``: run
    single samples and tiny models through the generated C built for this machine (``True``:
    build it now and use it wherever it applies; ``False``: never; default
    ``MICROFORGE_COMPILED``, else automatic: see docs/runtime.md)."""
    return Model(read_model(source), threads=threads, compiled=compiled)


def save(model: Model | Graph, path: str | os.PathLike) -> None:
    """Write a model (or a graph) as a ``.tflite`` file."""
    from microforge.frontends.tflite.writer import write_tflite

    graph = model.graph if isinstance(model, Model) else model
    data = write_tflite(graph)
    with open(path, "wb") as f:
        f.write(data)


class Interpreter:
    """A drop-in for the common ``tf.lite.Interpreter`` subset, running on microforge's runtime.

    ``from microforge import Interpreter`` instead of ``tf.lite.Interpreter``; batch size is the
    model's own (one sample per ``invoke``).
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        model_content: bytes | None = None,
        **_ignored: Any,
    ) -> None:
        if (model_path is None) == (model_content is None):
            raise InputError("give exactly one of model_path or model_content")
        self._model = load(model_path if model_path is not None else model_content)
        self._tensors: dict[int, np.ndarray] = {}
        self._allocated = False

    def allocate_tensors(self) -> None:
        self._allocated = True

    def _details(self, idx: int) -> dict[str, Any]:
        t = self._model.graph.main.tensors[idx]
        q = t.quant
        scales = q.scale if q is not None else np.zeros(0, np.float32)
        zps = q.zero_point.astype(np.int32) if q is not None else np.zeros(0, np.int32)
        return {
            "name": t.name,
            "index": idx,
            "shape": np.array(t.shape, dtype=np.int32),
            "shape_signature": np.array(t.shape_signature or t.shape, dtype=np.int32),
            "dtype": t.dtype.type,
            "quantization": (float(scales[0]) if scales.size else 0.0, int(zps[0]) if zps.size else 0),
            "quantization_parameters": {
                "scales": scales,
                "zero_points": zps,
                "quantized_dimension": q.axis if q is not None else 0,
            },
            "sparsity_parameters": {},
        }

    def get_input_details(self) -> list[dict[str, Any]]:
        return [self._details(i.index) for i in self._model.inputs]

    def get_output_details(self) -> list[dict[str, Any]]:
        return [self._details(o.index) for o in self._model.outputs]

    def get_tensor_details(self) -> list[dict[str, Any]]:
        return [self._details(i) for i in range(len(self._model.graph.main.tensors))]

    def set_tensor(self, tensor_index: int, value: np.ndarray) -> None:
        info = next((i for i in self._model.inputs if i.index == tensor_index), None)
        if info is None:
            raise InputError(f"tensor {tensor_index} is not an input of the model")
        value = np.asarray(value)
        if value.dtype != info.dtype or value.shape != tuple(info.shape):
            raise InputError(
                f"tensor {tensor_index} ({info.name!r}) expects {np.dtype(info.dtype).name} "
                f"{list(info.shape)}, got {value.dtype.name} {list(value.shape)}"
            )
        self._tensors[tensor_index] = value.copy()

    def invoke(self) -> None:
        if not self._allocated:
            raise MicroforgeError("call allocate_tensors() before invoke()")
        missing = [i.name for i in self._model.inputs if i.index not in self._tensors]
        if missing:
            raise InputError(f"set_tensor() was not called for input(s) {missing}")
        x = {i.name: self._tensors[i.index] for i in self._model.inputs}
        if len(set(x)) != len(self._model.inputs):
            x = [self._tensors[i.index] for i in self._model.inputs]
        outs, named = self._model.run(x, intermediates=True)
        tensors = self._model.graph.main.tensors
        by_name = {t.name or f"tensor_{k}": k for k, t in enumerate(tensors)}
        for name, arr in named.items():
            self._tensors[by_name[name]] = arr
        for info, arr in zip(self._model.outputs, outs):
            self._tensors[info.index] = arr

    def get_tensor(self, tensor_index: int) -> np.ndarray:
        if tensor_index in self._tensors:
            return np.array(self._tensors[tensor_index])
        t = self._model.graph.main.tensors[tensor_index]
        if t.data is not None:
            return np.array(t.data)
        raise InputError(f"tensor {tensor_index} ({t.name!r}) has no value yet; call invoke()")

    def reset_all_variables(self) -> None:
        self._model.reset()


def quantize(
    model: str | os.PathLike | bytes | Model | Graph,
    calibration_data: CalibrationSource,
    *,
    per_channel: bool = True,
    method: str = DEFAULT_METHOD,
    io: str = "int8",
    int16_activations: bool = False,
    allow_float: bool = False,
    percentile: float = 99.99,
    bias_correction: bool = True,
    optimize_rounding: bool | None = None,
    equalization: bool = True,
    mixed: bool = False,
    max_ram: int | None = None,
    progress: bool | None = None,
) -> QuantizedModel:
    """Quantize a float model with post-training calibration.

    ``calibration_data``: a .npy/.npz path, a folder of them, an array, a list of arrays (one per
    input) or a dict by input name; the leading axis counts samples. ``per_channel``: per-channel
    (default) or per-tensor weight scales. ``method``: activation ranges from ``"minmax"``,
    ``"percentile"`` (``percentile``-th) or ``"mse"``. ``io``: ``"int8"`` (quantized inputs and
    outputs; int16 with ``int16_activations``) or ``"float"`` (QUANTIZE / DEQUANTIZE at the edges).
    ``int16_activations``: 16x8 quantization. ``allow_float``: keep operators that cannot be
    quantized in float instead of failing. ``optimize_rounding``: learned weight rounding on every
    weighted layer (True), on none (False), or (None, the default) on the layers where it is cheap.
    ``equalization``: rescale channels between weighted layers to balance activation ranges
    (the float model computes the same outputs; default on).
    """
    result = quantize_graph(model, calibration_data, per_channel=per_channel, method=method, io=io,
                            int16_activations=int16_activations, allow_float=allow_float,
                            percentile=percentile, bias_correction=bias_correction,
                            optimize_rounding=optimize_rounding, equalization=equalization,
                            mixed=mixed, max_ram=max_ram,
                            progress=progress)
    try:
        return QuantizedModel(result)
    except MicroforgeError as exc:
        raise ModelError(f"the quantized model does not prepare ({exc}); please report it") from exc
