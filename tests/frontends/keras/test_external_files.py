"""HDF5 links and datasets that point into other files (issue 15): libhdf5 would open the file they
name, relative to the working directory, and the bytes would become weights -- and C. Keras writes
none of them; each is one ModelError, and the named file is never read."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from microforge.errors import ModelError
from microforge.frontends import read_model

h5py = pytest.importorskip("h5py", reason="h5py not installed (optional extra [keras])")
SEEDS = Path(__file__).resolve().parents[2] / "fuzz" / "seeds"


def _first_weight(f) -> tuple[str, str]:
    """(layer group path, dataset path) of the first weight in a tf_keras .h5 file."""
    group = f["model_weights"]
    for layer in group:
        names = group[layer].attrs.get("weight_names", [])
        if len(names):
            name = names[0].decode() if isinstance(names[0], bytes) else names[0]
            return group[layer].name, group[layer][name].name
    raise AssertionError("no weights")


def _externally_stored(f, path: str) -> None:
    shape = f[path].shape
    del f[path]
    size = int(np.prod(shape)) * 4
    Path("secret.bin").write_bytes(b"S" * size)
    f.create_dataset(path, shape=shape, dtype="f4", external=[("secret.bin", 0, size)])


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_dataset_stored_in_another_file(work):
    shutil.copy(SEEDS / "zoo.tf_keras.h5", "m.h5")
    with h5py.File("m.h5", "r+") as f:
        _externally_stored(f, _first_weight(f)[1])
    with pytest.raises(ModelError, match="keeps its data in other files .'secret.bin'"):
        read_model(Path("m.h5").read_bytes())


@pytest.mark.parametrize("kind", ["ExternalLink", "SoftLink"])
def test_a_layer_that_links_elsewhere(work, kind):
    shutil.copy(SEEDS / "zoo.tf_keras.h5", "m.h5")
    shutil.copy(SEEDS / "zoo.tf_keras.h5", "other.h5")
    with h5py.File("m.h5", "r+") as f:
        layer, _ = _first_weight(f)
        f.move(layer, "/moved")
        f[layer] = (h5py.ExternalLink("other.h5", layer) if kind == "ExternalLink"
                    else h5py.SoftLink("/moved"))
    with pytest.raises(ModelError, match=f"is a {kind} to"):
        read_model(Path("m.h5").read_bytes())


def test_a_keras_zip_whose_weights_are_stored_elsewhere(work):
    src = zipfile.ZipFile(SEEDS / "lstm.keras3.keras")
    Path("w.h5").write_bytes(src.read("model.weights.h5"))
    with h5py.File("w.h5", "r+") as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(obj.name)
                     if isinstance(obj, h5py.Dataset) else None)
        _externally_stored(f, datasets[0])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            z.writestr(item, Path("w.h5").read_bytes() if item.filename == "model.weights.h5"
                       else src.read(item.filename))
    with pytest.raises(ModelError, match="keeps its data in other files"):
        read_model(out.getvalue())
