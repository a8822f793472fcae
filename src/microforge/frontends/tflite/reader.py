"""Read a ``.tflite`` flatbuffer into the IR.

Accepts what TFLite Micro accepts: no cross-checks that only the full TFLite runtime makes (e.g.
``person_detect.tflite`` carries quantization fields LiteRT rejects). Everything that would make a
later stage read out of bounds is checked here and reported as one :class:`ModelError`.
Enum-valued options are decoded into the IR enums the operator's row names (``Activation.RELU``,
``Padding.SAME``: :mod:`microforge.ir.ops`); an operator without options table gets
``options_type="NONE"``, so the writer writes none either.
"""

from __future__ import annotations

import struct

import numpy as np
import tflite

from microforge.errors import ModelError
from microforge.frontends.source import ModelSource, load_bytes
from microforge.frontends.tflite import schema as table
from microforge.ir import Graph, Operator, QuantParams, Signature, Subgraph, Tensor, op_def
from microforge.ir.dtypes import DTYPES

TFLITE_IDENTIFIER = b"TFL3"


def read_tflite(source: ModelSource) -> Graph:
    """Read a model from a path or from the bytes of a ``.tflite`` file."""
    return parse_tflite(*load_bytes(source, "a .tflite file"))


def parse_tflite(buf: bytes, where: str = "<bytes>") -> Graph:
    """Read the bytes of a ``.tflite`` file; ``where`` names it in errors."""
    if len(buf) < 8 or buf[4:8] != TFLITE_IDENTIFIER:
        raise ModelError(
            f"{where}: not a TensorFlow Lite model (no 'TFL3' flatbuffer identifier); "
            "pass a .tflite file"
        )
    reader = None
    try:
        reader = _Reader(buf)
        return reader.read()
    except ModelError as exc:
        raise ModelError(f"{where}: {exc}") from None
    except (IndexError, struct.error, ValueError, TypeError, UnicodeDecodeError, KeyError) as exc:
        at = f" in {reader.at}" if reader is not None else ""
        raise ModelError(
            f"{where}: corrupt or truncated flatbuffer{at} ({type(exc).__name__}: {exc}); "
            "re-export the model"
        ) from None


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.at = "the model table"  # the part being read, for the error of a corrupt file
        root = struct.unpack_from("<I", buf, 0)[0]
        if root + 4 > len(buf):
            raise ModelError("truncated flatbuffer (root table past end of file)")
        self.model = tflite.Model.GetRootAs(buf, 0)

    def read(self) -> Graph:
        m = self.model
        if m.SubgraphsLength() == 0:
            raise ModelError("the model has no subgraphs")
        buffers = [self._buffer(i) for i in range(m.BuffersLength())]
        opcodes = [self._opcode(i) for i in range(m.OperatorCodesLength())]
        subgraphs = [
            self._subgraph(m.Subgraphs(i), buffers, opcodes, i) for i in range(m.SubgraphsLength())
        ]
        metadata = {}
        for i in range(m.MetadataLength()):
            self.at = f"metadata {i}"
            md = m.Metadata(i)
            idx = md.Buffer()
            name = (md.Name() or b"").decode(errors="replace")
            metadata[name] = bytes(buffers[idx]) if 0 <= idx < len(buffers) else b""
        signatures = []
        for i in range(m.SignatureDefsLength()):
            self.at = f"signature {i}"
            sd = m.SignatureDefs(i)
            signatures.append(
                Signature(
                    key=(sd.SignatureKey() or b"").decode(errors="replace"),
                    subgraph_index=sd.SubgraphIndex(),
                    inputs={
                        (sd.Inputs(j).Name() or b"").decode(errors="replace"): sd.Inputs(j).TensorIndex()
                        for j in range(sd.InputsLength())
                    },
                    outputs={
                        (sd.Outputs(j).Name() or b"").decode(errors="replace"):
                        sd.Outputs(j).TensorIndex()
                        for j in range(sd.OutputsLength())
                    },
                )
            )
        return Graph(
            subgraphs=subgraphs,
            description=(m.Description() or b"").decode(errors="replace"),
            version=m.Version(),
            metadata=metadata,
            signatures=signatures,
        )

    def _buffer(self, i: int) -> memoryview:
        self.at = f"buffer {i}"
        b = self.model.Buffers(i)
        offset, size = b.Offset(), b.Size()
        if offset > 1:
            if offset + size > len(self.buf):
                raise ModelError(f"buffer {i} lies past the end of the file (truncated?)")
            return memoryview(self.buf)[offset : offset + size]
        if b.DataIsNone() or b.DataLength() == 0:
            return memoryview(b"")
        start = b._tab.Vector(b._tab.Offset(4))
        n = b.DataLength()
        if start + n > len(self.buf):
            raise ModelError(f"buffer {i} lies past the end of the file (truncated?)")
        return memoryview(self.buf)[start : start + n]

    def _opcode(self, i: int) -> tuple[str, bool, int]:
        self.at = f"operator code {i}"
        oc = self.model.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        if code == table.BUILTIN_CODES["CUSTOM"]:
            return (oc.CustomCode() or b"").decode(errors="replace"), True, oc.Version()
        if code not in table.BUILTIN_NAMES:
            return f"BUILTIN_{code}", False, oc.Version()
        return table.BUILTIN_NAMES[code], False, oc.Version()

    def _subgraph(self, sg, buffers: list[memoryview], opcodes: list, s: int) -> Subgraph:
        tensors = []
        for i in range(sg.TensorsLength()):
            self.at = f"subgraph {s} tensor {i}"
            tensors.append(self._tensor(sg.Tensors(i), i, buffers))
        n = len(tensors)

        def indices(arr, what: str) -> list[int]:
            out = [int(x) for x in (arr if isinstance(arr, np.ndarray) else [])]
            for x in out:
                if x < -1 or x >= n:
                    raise ModelError(f"{what} refers to tensor {x}, but the subgraph has {n}")
            return out

        operators = []
        for i in range(sg.OperatorsLength()):
            self.at = f"subgraph {s} operator {i}"
            op = sg.Operators(i)
            idx = op.OpcodeIndex()
            if idx >= len(opcodes):
                raise ModelError(f"operator {i} has opcode index {idx} of {len(opcodes)}")
            name, custom, version = opcodes[idx]
            where = f"operator {i} ({name})"
            options, options_type = {}, None
            if op.BuiltinOptionsType() != 0 and op.BuiltinOptions() is not None:
                options_type = table.OPTIONS_NAMES.get(op.BuiltinOptionsType())
                if options_type is not None:
                    options = table.decode_options(options_type, op.BuiltinOptions())
            elif op.BuiltinOptions2Type() != 0 and op.BuiltinOptions2() is not None:
                options_type = table.OPTIONS2_NAMES.get(op.BuiltinOptions2Type())
                if options_type is not None:
                    options = table.decode_options(options_type, op.BuiltinOptions2())
            row = None if custom else op_def(name)
            if row is not None:
                options = row.named(options)
            custom_options = None
            if not op.CustomOptionsIsNone():
                custom_options = op.CustomOptionsAsNumpy().tobytes()
            elif op.LargeCustomOptionsSize() > 0:
                off, size = op.LargeCustomOptionsOffset(), op.LargeCustomOptionsSize()
                custom_options = self.buf[off : off + size]
            operators.append(
                Operator(
                    opcode=name,
                    inputs=indices(op.InputsAsNumpy(), where + " input"),
                    outputs=indices(op.OutputsAsNumpy(), where + " output"),
                    options=options,
                    options_type=options_type or "NONE",
                    custom=custom,
                    custom_options=custom_options,
                    custom_options_format=op.CustomOptionsFormat(),
                    version=version,
                    intermediates=indices(op.IntermediatesAsNumpy(), where + " intermediate"),
                )
            )
        self.at = f"subgraph {s}"
        return Subgraph(
            tensors=tensors,
            operators=operators,
            inputs=indices(sg.InputsAsNumpy(), "subgraph input"),
            outputs=indices(sg.OutputsAsNumpy(), "subgraph output"),
            name=(sg.Name() or b"").decode(errors="replace"),
        )

    def _tensor(self, t, i: int, buffers: list[memoryview]) -> Tensor:
        name = (t.Name() or b"").decode(errors="replace")
        type_name = table.TENSOR_TYPE_NAMES.get(t.Type())
        if type_name is None:
            raise ModelError(f"tensor {i} ({name!r}) has unknown type {t.Type()}")
        dtype = DTYPES[type_name]
        shape = tuple(int(x) for x in t.ShapeAsNumpy()) if not t.ShapeIsNone() else ()
        if any(d < -1 for d in shape):
            raise ModelError(f"tensor {i} ({name!r}) has a negative dimension {shape}")
        sig = None
        if not t.ShapeSignatureIsNone():
            sig = tuple(int(x) for x in t.ShapeSignatureAsNumpy())
        if t.Sparsity() is not None:
            raise ModelError(f"tensor {i} ({name!r}) is sparse; sparse tensors are not supported")
        data = None
        b = t.Buffer()
        if b >= len(buffers):
            raise ModelError(f"tensor {i} ({name!r}) refers to buffer {b} of {len(buffers)}")
        raw = buffers[b] if b > 0 else memoryview(b"")
        if len(raw) > 0:
            data = self._data(raw, dtype, type_name, shape, i, name)
        elif b > 0 and shape and 0 in shape:
            data = np.zeros(shape, dtype)  # an empty constant (e.g. an empty axis list)
            data.flags.writeable = False
        return Tensor(
            name=name,
            shape=shape,
            dtype=dtype,
            quant=self._quant(t.Quantization()),
            data=data,
            is_variable=bool(t.IsVariable()),
            shape_signature=sig,
            has_rank=bool(t.HasRank()),
            type_name=type_name,
        )

    @staticmethod
    def _data(raw, dtype, type_name, shape, i, name) -> np.ndarray:
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if type_name in ("INT4", "STRING", "RESOURCE", "VARIANT"):
            arr = np.frombuffer(raw, dtype=np.uint8)
            arr.flags.writeable = False
            return arr
        need = count * dtype.itemsize
        if len(raw) < need:
            raise ModelError(
                f"tensor {i} ({name!r}) needs {need} bytes of data but its buffer has {len(raw)}"
            )
        arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=count).astype(dtype, copy=False)
        arr = arr.reshape(shape)
        arr.flags.writeable = False
        return arr

    @staticmethod
    def _quant(q) -> QuantParams | None:
        if q is None:
            return None
        scale = q.ScaleAsNumpy() if not q.ScaleIsNone() else np.zeros(0, np.float32)
        zp = q.ZeroPointAsNumpy() if not q.ZeroPointIsNone() else np.zeros(0, np.int64)
        mn = q.MinAsNumpy() if not q.MinIsNone() else np.zeros(0, np.float32)
        mx = q.MaxAsNumpy() if not q.MaxIsNone() else np.zeros(0, np.float32)
        if scale.size == 0 and zp.size == 0 and mn.size == 0 and mx.size == 0:
            return None
        return QuantParams(scale=scale, zero_point=zp, axis=q.QuantizedDimension(), min=mn, max=mx)
