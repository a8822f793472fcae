"""Model outputs the interpreter does not compute: a constant output is handed back per sample as
TFLM hands back its buffer (the C backend refuses it with one line); an output nothing writes is
a ModelError at load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import microforge
from microforge.errors import ModelError, UnsupportedOpError
from microforge.frontends import read_model
from microforge.runtime.interpreter import Executor

CONSTANT_OUTPUT = (Path(__file__).resolve().parents[1] / "fuzz" / "corpus" / "tflite"
                   / "constant-model-output-keyerror.tflite")


def test_a_constant_output_is_its_data_for_every_sample():
    graph = read_model(CONSTANT_OUTPUT)
    sg = graph.main
    (out,) = sg.outputs
    assert sg.tensors[out].data is not None
    model = microforge.load(CONSTANT_OUTPUT)
    x = np.zeros((3,) + model.inputs[0].shape, model.inputs[0].dtype)
    (y,) = model.run(x)
    assert y.shape == (3,) + sg.tensors[out].data.shape
    assert (y == sg.tensors[out].data[None]).all()


def test_the_c_backend_refuses_a_constant_output(tmp_path):
    from microforge.compiler import compile as compile_model

    with pytest.raises(UnsupportedOpError, match="is a constant"):
        compile_model(read_model(CONSTANT_OUTPUT), tmp_path / "out", name="m")
    assert not (tmp_path / "out").exists()


def test_an_output_nothing_writes_is_refused_at_load(models_dir):
    graph = read_model(models_dir / "hello_world_int8.tflite")
    graph.main.operators.pop()  # the output's producer: now nothing writes it
    with pytest.raises(ModelError, match="neither computed"):
        Executor(graph)
