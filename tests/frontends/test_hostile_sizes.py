"""Hostile size claims in every model format (issue 15): a 4 GB buffer or a 2^31-element tensor is
one ModelError, raised before anything that size is allocated (traced with tracemalloc) and in
well under a second of work."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from microforge.errors import ModelError
from microforge.frontends import read_model

SEEDS = Path(__file__).resolve().parents[1] / "fuzz" / "seeds"
HUGE = (1 << 16, 1 << 15)  # 2^31 elements


def _refused(data: bytes, *words: str) -> str:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelError) as exc:
            read_model(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 30  # a loaded machine; it is milliseconds of work
    assert peak < 64 << 20, f"{peak:,} bytes allocated before the refusal"
    message = str(exc.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message
    return message


def test_a_tflite_buffer_claiming_4_gb(models_dir):
    """The length prefix of a buffer's data vector set to 0xFFFFFFF0: the reader's bounds check
    refuses it before any copy."""
    import tflite

    data = bytearray((models_dir / "hello_world_int8.tflite").read_bytes())
    model = tflite.Model.GetRootAsModel(data, 0)
    k = next(i for i in range(model.BuffersLength()) if model.Buffers(i).DataLength() > 0)
    b = model.Buffers(k)
    start = b._tab.Vector(b._tab.Offset(4))
    struct.pack_into("<I", data, start - 4, 0xFFFFFFF0)
    _refused(bytes(data), f"buffer {k}", "past the end of the file")


@pytest.mark.parametrize("claim", ["initializer", "input"])
def test_an_onnx_tensor_claiming_2_31_elements(claim):
    """An initializer whose dims say 8 GB over 4 bytes of raw data (onnx.helper refuses to make
    one, so it is put together by hand), or a graph input of 2^31 elements."""
    pytest.importorskip("onnx", reason="onnx not installed (optional extra [onnx])")
    from onnx import TensorProto, helper

    w_shape = HUGE if claim == "initializer" else (1,)
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=w_shape, raw_data=b"\0" * 4)
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])], "hostile",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, HUGE)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, HUGE)], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    words = ("initializer 'w'",) if claim == "initializer" else ("MICROFORGE_MAX_TENSOR_BYTES",)
    _refused(model.SerializeToString(), *words)


def test_a_keras_weight_dataset_claiming_2_31_elements(tmp_path):
    """A Keras HDF5 file whose first weight dataset is replaced by a chunked 8 GB one with no
    chunk written (the file stays small): refused from its shape, before it is read."""
    h5py = pytest.importorskip("h5py", reason="h5py not installed (optional extra [keras])")
    path = tmp_path / "zoo.h5"
    path.write_bytes((SEEDS / "zoo.tf_keras.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        group = f["model_weights"]
        layer = next(k for k in group if len(group[k].attrs.get("weight_names", [])))
        name = group[layer].attrs["weight_names"][0]
        name = name.decode() if isinstance(name, bytes) else name
        del group[layer][name]
        group[layer].create_dataset(name, shape=HUGE, dtype="f4", chunks=(1, 1024))
    assert path.stat().st_size < 1 << 20
    _refused(path.read_bytes(), "8,589,934,592", "MICROFORGE_MAX_TENSOR_BYTES")


def test_a_keras_input_claiming_2_31_elements():
    """A .keras file whose config gives the input 2^31 elements per sample: validation refuses
    the graph's tensor sizes before the model is prepared or run."""
    import json
    import zipfile

    src = zipfile.ZipFile(io.BytesIO((SEEDS / "lstm.keras3.keras").read_bytes()))
    config = json.loads(src.read("config.json"))
    text = json.dumps(config)
    assert '"batch_shape": [null, 12, 8]' in text
    text = text.replace('"batch_shape": [null, 12, 8]', f'"batch_shape": [null, {1 << 23}, 256]')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            z.writestr(item, text if item.filename == "config.json" else src.read(item.filename))
    pytest.importorskip("h5py", reason="h5py not installed (optional extra [keras])")
    _refused(out.getvalue(), "MICROFORGE_MAX_TENSOR_BYTES")


def test_the_huge_shape_is_what_it_says():
    assert int(np.prod(HUGE, dtype=np.int64)) == 2**31
