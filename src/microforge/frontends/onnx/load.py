"""Reading an ONNX file: the lazy ``onnx`` import, content sniffing, static shapes.

Dynamic dimensions of the graph inputs (``dim_param`` or 0, typically the batch) become 1; the
IR tensor records -1 in its ``shape_signature``. ``onnx.shape_inference`` (with data
propagation) then gives every value a static shape.
"""

from __future__ import annotations

from typing import Any

from microforge.errors import ModelError, ToolError

# ModelProto fields and their protobuf wire types (onnx.proto): a file whose first fields are
# these is worth handing to the protobuf parser.
_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}
MIN_OPSET = 13


def onnx_module() -> Any:
    """The ``onnx`` package, or one line saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise ToolError("reading ONNX needs the onnx package: pip install 'microforge[onnx]'") from None
    return onnx


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return -1, pos


def sniff_onnx(data: bytes) -> bool:
    """True when the bytes start like a serialized ModelProto: field 1 (``ir_version``, a small
    varint) and then another ModelProto field with its wire type."""
    if len(data) < 4 or data[0] != 0x08:
        return False
    version, pos = _varint(data, 1)
    if not 1 <= version <= 64 or pos >= len(data):
        return False
    key, _ = _varint(data, pos)
    return key > 0 and _MODEL_FIELDS.get(key >> 3) == key & 7


def load_model(data: bytes, where: str) -> tuple[Any, dict[str, tuple[int, ...]]]:
    """The ModelProto with static input shapes, converted to opset >= 13 and shape-inferred, and
    per graph input the axes whose size the file left open (now 1)."""
    onnx = onnx_module()
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelError(f"{where}: not a readable ONNX model ({first_line(exc)})") from None
    if not model.HasField("graph") or not model.graph.output:
        raise ModelError(f"{where}: not a readable ONNX model (no graph or no outputs)")
    _refuse_external_data(model, where)
    opset = default_opset(model)
    if opset < MIN_OPSET:
        try:
            model = onnx.version_converter.convert_version(model, MIN_OPSET)
        except Exception as exc:
            raise ModelError(f"{where}: opset {opset} could not be converted to {MIN_OPSET} "
                             f"({first_line(exc)}); export with opset >= {MIN_OPSET}") from None
    initializers = {t.name for t in model.graph.initializer}
    dynamic: dict[str, tuple[int, ...]] = {}
    for inp in model.graph.input:
        if inp.name in initializers or not inp.type.HasField("tensor_type"):
            continue
        dims = inp.type.tensor_type.shape.dim
        dynamic[inp.name] = tuple(i for i, d in enumerate(dims) if not d.HasField("dim_value"))
        for i in dynamic[inp.name]:
            dims[i].Clear()
            dims[i].dim_value = 1
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True), dynamic
    except Exception as exc:
        raise ModelError(f"{where}: ONNX shape inference failed ({first_line(exc)})") from None


def _refuse_external_data(model: Any, where: str) -> None:
    """A tensor that keeps its data in an external file names that file itself (``location``), and
    onnx's ``numpy_helper.to_array`` would read it relative to the working directory: a hostile
    model could pull any file it names into its weights, and from there into the generated C.
    microforge reads single-file models only, so every tensor with external data is refused --
    initializers, sparse initializers and tensor attributes, in every (sub)graph and function."""
    onnx = onnx_module()
    external = onnx.TensorProto.EXTERNAL

    def tensors(graph: Any):
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield from (sparse.values, sparse.indices)
        for node in graph.node:
            yield from node_tensors(node)

    def node_tensors(node: Any):
        for attr in node.attribute:
            yield from (attr.t, *attr.tensors)
            for sparse in (attr.sparse_tensor, *attr.sparse_tensors):
                yield from (sparse.values, sparse.indices)
            for sub in (attr.g, *attr.graphs):
                yield from tensors(sub)

    def all_tensors():
        yield from tensors(model.graph)
        for function in model.functions:
            for node in function.node:
                yield from node_tensors(node)

    for t in all_tensors():
        if t.data_location == external or len(t.external_data):
            location = next((e.value for e in t.external_data if e.key == "location"), "?")
            raise ModelError(f"{where}: tensor {t.name!r} keeps its data in an external file "
                             f"({location[:100]!r}); microforge reads single-file ONNX models "
                             "only: save it with onnx.save_model(model, path, "
                             "save_as_external_data=False)")


def default_opset(model: Any) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 1


def static_shapes(model: Any) -> dict[str, tuple[int, ...]]:
    """Every value with a fully known shape: inputs, outputs and inferred intermediates."""
    shapes: dict[str, tuple[int, ...]] = {}
    for info in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        t = info.type.tensor_type
        if not info.type.HasField("tensor_type") or not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        if all(d >= 0 for d in dims):
            shapes[info.name] = tuple(dims)
    return shapes


def first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
