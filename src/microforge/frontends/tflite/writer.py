"""Write the IR as a ``.tflite`` flatbuffer that TFLite Micro loads.

Constant data is stored in 16-byte aligned buffers (as the TFLite converter does); buffer 0 is the
empty sentinel the schema requires. Options are written from the decoded dicts through the same
table the reader uses, so read → write → read gives the same graph. An operator made in code
(``options_type`` None) gets its operator's options table (``schema.OPTIONS_OF``).
"""

from __future__ import annotations

import flatbuffers
import numpy as np
import tflite

from microforge.errors import ModelError
from microforge.frontends.tflite import schema as table
from microforge.ir import Graph, Operator, Subgraph, Tensor

_ALIGN = 16


def write_tflite(graph: Graph) -> bytes:
    """Serialize a graph to the bytes of a ``.tflite`` file."""
    return _Writer(graph).write()


class _Writer:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.b = flatbuffers.Builder(1 << 16)
        self.buffers: list[bytes] = [b""]
        self.opcodes: list[tuple[str, bool, int]] = []

    def _add_buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def _opcode_index(self, op: Operator) -> int:
        key = (op.opcode, op.custom, op.version)
        if key not in self.opcodes:
            self.opcodes.append(key)
        return self.opcodes.index(key)

    def _ivec(self, values, dtype=np.int32) -> int:
        return self.b.CreateNumpyVector(np.asarray(list(values), dtype=dtype))

    def _offsets(self, start_fn, offsets: list[int]) -> int:
        start_fn(self.b, len(offsets))
        for off in reversed(offsets):
            self.b.PrependUOffsetTRelative(off)
        return self.b.EndVector()

    def write(self) -> bytes:
        g, b = self.graph, self.b
        # Buffer indices for tensor data and metadata are assigned first (data is written last).
        subgraph_buffers = []
        for sg in g.subgraphs:
            idx = []
            for t in sg.tensors:
                if t.data is not None:
                    idx.append(self._add_buffer(np.ascontiguousarray(t.data).astype(
                        t.data.dtype.newbyteorder("<"), copy=False).tobytes()))
                else:
                    idx.append(0)
            subgraph_buffers.append(idx)
        metadata_buffers = {name: self._add_buffer(data) for name, data in g.metadata.items()}

        subgraphs = [self._subgraph(sg, bufs) for sg, bufs in zip(g.subgraphs, subgraph_buffers)]
        subgraphs_vec = self._offsets(tflite.ModelStartSubgraphsVector, subgraphs)

        opcodes = []
        for name, custom, version in self.opcodes:
            custom_off = b.CreateString(name) if custom else None
            code = table.BUILTIN_CODES["CUSTOM"] if custom else table.BUILTIN_CODES.get(name)
            if code is None:
                if name.startswith("BUILTIN_"):
                    code = int(name[len("BUILTIN_"):])
                else:
                    raise ModelError(f"unknown builtin operator {name!r}")
            tflite.OperatorCodeStart(b)
            tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            tflite.OperatorCodeAddBuiltinCode(b, code)
            tflite.OperatorCodeAddVersion(b, version)
            if custom_off is not None:
                tflite.OperatorCodeAddCustomCode(b, custom_off)
            opcodes.append(tflite.OperatorCodeEnd(b))
        opcodes_vec = self._offsets(tflite.ModelStartOperatorCodesVector, opcodes)

        metas = []
        for name, buf_idx in metadata_buffers.items():
            name_off = b.CreateString(name)
            tflite.MetadataStart(b)
            tflite.MetadataAddName(b, name_off)
            tflite.MetadataAddBuffer(b, buf_idx)
            metas.append(tflite.MetadataEnd(b))
        metas_vec = self._offsets(tflite.ModelStartMetadataVector, metas) if metas else None

        sigs = [self._signature(s) for s in g.signatures]
        sigs_vec = self._offsets(tflite.ModelStartSignatureDefsVector, sigs) if sigs else None

        buffers = []
        for data in self.buffers:
            data_off = None
            if data:
                b.StartVector(1, len(data), _ALIGN)
                b.head = b.head - len(data)
                b.Bytes[b.head : b.head + len(data)] = data
                data_off = b.EndVector()
            tflite.BufferStart(b)
            if data_off is not None:
                tflite.BufferAddData(b, data_off)
            buffers.append(tflite.BufferEnd(b))
        buffers_vec = self._offsets(tflite.ModelStartBuffersVector, buffers)

        desc = b.CreateString(g.description) if g.description else None
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, g.version)
        tflite.ModelAddOperatorCodes(b, opcodes_vec)
        tflite.ModelAddSubgraphs(b, subgraphs_vec)
        if desc is not None:
            tflite.ModelAddDescription(b, desc)
        tflite.ModelAddBuffers(b, buffers_vec)
        if metas_vec is not None:
            tflite.ModelAddMetadata(b, metas_vec)
        if sigs_vec is not None:
            tflite.ModelAddSignatureDefs(b, sigs_vec)
        b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _subgraph(self, sg: Subgraph, buffer_idx: list[int]) -> int:
        b = self.b
        tensors = [self._tensor(t, buf) for t, buf in zip(sg.tensors, buffer_idx)]
        tensors_vec = self._offsets(tflite.SubGraphStartTensorsVector, tensors)
        ops = [self._operator(op) for op in sg.operators]
        ops_vec = self._offsets(tflite.SubGraphStartOperatorsVector, ops)
        inputs = self._ivec(sg.inputs)
        outputs = self._ivec(sg.outputs)
        name = b.CreateString(sg.name) if sg.name else None
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors_vec)
        tflite.SubGraphAddInputs(b, inputs)
        tflite.SubGraphAddOutputs(b, outputs)
        tflite.SubGraphAddOperators(b, ops_vec)
        if name is not None:
            tflite.SubGraphAddName(b, name)
        return tflite.SubGraphEnd(b)

    def _tensor(self, t: Tensor, buffer: int) -> int:
        b = self.b
        shape = self._ivec(t.shape)
        sig = self._ivec(t.shape_signature) if t.shape_signature is not None else None
        name = b.CreateString(t.name)
        quant = None
        if t.quant is not None:
            q = t.quant
            vecs = {}
            if q.min.size:
                vecs["min"] = b.CreateNumpyVector(q.min.astype(np.float32))
            if q.max.size:
                vecs["max"] = b.CreateNumpyVector(q.max.astype(np.float32))
            if q.scale.size:
                vecs["scale"] = b.CreateNumpyVector(q.scale.astype(np.float32))
            if q.zero_point.size:
                vecs["zp"] = b.CreateNumpyVector(q.zero_point.astype(np.int64))
            tflite.QuantizationParametersStart(b)
            if "min" in vecs:
                tflite.QuantizationParametersAddMin(b, vecs["min"])
            if "max" in vecs:
                tflite.QuantizationParametersAddMax(b, vecs["max"])
            if "scale" in vecs:
                tflite.QuantizationParametersAddScale(b, vecs["scale"])
            if "zp" in vecs:
                tflite.QuantizationParametersAddZeroPoint(b, vecs["zp"])
            tflite.QuantizationParametersAddQuantizedDimension(b, q.axis)
            quant = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, table.TENSOR_TYPES[t.type_name])
        tflite.TensorAddBuffer(b, buffer)
        tflite.TensorAddName(b, name)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        if t.is_variable:
            tflite.TensorAddIsVariable(b, True)
        if sig is not None:
            tflite.TensorAddShapeSignature(b, sig)
        if t.has_rank:
            tflite.TensorAddHasRank(b, True)
        return tflite.TensorEnd(b)

    def _operator(self, op: Operator) -> int:
        b = self.b
        inputs = self._ivec(op.inputs)
        outputs = self._ivec(op.outputs)
        inter = self._ivec(op.intermediates) if op.intermediates else None
        custom = None
        if op.custom_options is not None:
            custom = b.CreateNumpyVector(np.frombuffer(op.custom_options, dtype=np.uint8))
        options_type = op.options_type
        if options_type is None and not op.custom:  # made in code: the operator's own table
            options_type = table.OPTIONS_OF.get(op.opcode)
        opts, opts2 = None, None
        if options_type == "NONE":  # read from a file that gave the operator no options table
            options_type = None
        if options_type in table.OPTIONS_TYPES:
            opts = table.encode_options(b, options_type, op.options)
        elif options_type in table.OPTIONS2_TYPES:
            opts2 = table.encode_options(b, options_type, op.options)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, self._opcode_index(op))
        tflite.OperatorAddInputs(b, inputs)
        tflite.OperatorAddOutputs(b, outputs)
        if opts is not None:
            tflite.OperatorAddBuiltinOptionsType(b, table.OPTIONS_TYPES[options_type])
            tflite.OperatorAddBuiltinOptions(b, opts)
        if opts2 is not None:
            tflite.OperatorAddBuiltinOptions2Type(b, table.OPTIONS2_TYPES[options_type])
            tflite.OperatorAddBuiltinOptions2(b, opts2)
        if custom is not None:
            tflite.OperatorAddCustomOptions(b, custom)
            tflite.OperatorAddCustomOptionsFormat(b, op.custom_options_format)
        if inter is not None:
            tflite.OperatorAddIntermediates(b, inter)
        return tflite.OperatorEnd(b)

    def _signature(self, sig) -> int:
        b = self.b

        def maps(items, start_fn):
            offs = []
            for name, idx in items.items():
                n = b.CreateString(name)
                tflite.TensorMapStart(b)
                tflite.TensorMapAddName(b, n)
                tflite.TensorMapAddTensorIndex(b, idx)
                offs.append(tflite.TensorMapEnd(b))
            return self._offsets(start_fn, offs)

        ins = maps(sig.inputs, tflite.SignatureDefStartInputsVector)
        outs = maps(sig.outputs, tflite.SignatureDefStartOutputsVector)
        key = b.CreateString(sig.key)
        tflite.SignatureDefStart(b)
        tflite.SignatureDefAddInputs(b, ins)
        tflite.SignatureDefAddOutputs(b, outs)
        tflite.SignatureDefAddSignatureKey(b, key)
        tflite.SignatureDefAddSubgraphIndex(b, sig.subgraph_index)
        return tflite.SignatureDefEnd(b)
