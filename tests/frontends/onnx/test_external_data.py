"""ONNX tensors with external data (issue 15): the file names another file, which onnx would read
relative to the working directory -- a hostile model could pull any file it names into its weights
and from there into the generated C. microforge reads single-file models: each such tensor is one
ModelError, wherever it sits, and no file is read."""

from __future__ import annotations

import pytest

from microforge.errors import ModelError
from microforge.frontends import read_model

onnx = pytest.importorskip("onnx", reason="onnx not installed (optional extra [onnx])")
from onnx import TensorProto, helper  # noqa: E402


def _external(name: str, location: str = "secret.bin") -> TensorProto:
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=(4,))
    t.data_location = TensorProto.EXTERNAL
    entry = t.external_data.add()
    entry.key, entry.value = "location", location
    return t


def _model(nodes, initializers=()) -> bytes:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 4))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 4))], list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def _branch(name: str, tensor: TensorProto):
    out = helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, (4,))
    return helper.make_graph([helper.make_node("Constant", [], [f"{name}_out"], value=tensor)],
                             name, [], [out])


def _cases() -> dict[str, bytes]:
    add = helper.make_node("Add", ["x", "w"], ["y"])
    constant = helper.make_node("Constant", [], ["w"], value=_external("c"))
    cond = helper.make_tensor("cond", TensorProto.BOOL, (), [True])
    branch = helper.make_node("If", ["cond"], ["w"], then_branch=_branch("then", _external("t")),
                              else_branch=_branch("else", _external("e")))
    return {
        "initializer": _model([add], [_external("w")]),
        "constant": _model([constant, add]),
        "subgraph": _model([branch, add], [cond]),
    }


@pytest.mark.parametrize("case", ["initializer", "constant", "subgraph"])
def test_a_tensor_with_external_data_is_refused_without_reading_the_file(case, tmp_path,
                                                                          monkeypatch):
    (tmp_path / "secret.bin").write_bytes(b"SECRETSECRETSECR")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="external file .'secret.bin'.*save_as_external_data=False"):
        read_model(_cases()[case])


def test_the_same_model_with_its_data_inside_reads():
    w = helper.make_tensor("w", TensorProto.FLOAT, (4,), [1, 2, 3, 4])
    graph = read_model(_model([helper.make_node("Add", ["x", "w"], ["y"])], [w]))
    assert any(t.data is not None and t.data.ravel().tolist() == [1, 2, 3, 4]
               for t in graph.main.tensors)
