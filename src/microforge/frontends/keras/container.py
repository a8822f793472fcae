"""The two Keras file containers, opened without Keras or TensorFlow.

* Keras 2 / legacy HDF5 (``.h5``, written by tf_keras and by Keras 3's legacy saver): the root
  attribute ``model_config`` (JSON) and a ``model_weights`` group holding, per layer name, a group
  whose ``weight_names`` attribute lists the layer's variables in the order Keras created them.
* Keras 3 (``.keras``): a zip of ``config.json``, ``model.weights.h5`` and ``metadata.json``. The
  weights file holds ``layers/<key>/vars/0..n`` (nested layers such as an LSTM's cell below
  ``layers/<key>/cell/vars``); the key is not always the layer name (a ``Sequential`` numbers layers
  by class: ``dense``, ``dense_1``, ...), so each ``vars`` group's ``name`` attribute names it.

h5py is imported here only (the ``keras`` extra).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge import limits
from microforge.errors import ModelError
from microforge.frontends.keras.hdf5_check import check_global_heaps
from microforge.frontends.keras.isolate import in_child

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ZIP_SIGNATURE = b"PK\x03\x04"


@dataclass
class KerasFile:
    """A Keras model file's content: the model config (the JSON Keras writes), each layer's weights
    by layer name in creation order, and the Keras version that wrote it ("2.x" / "3.x")."""

    config: dict[str, Any]
    weights: dict[str, list[np.ndarray]]
    keras_version: str


def is_hdf5(data: bytes) -> bool:
    """HDF5 keeps its superblock signature at offset 0, 512, 1024, 2048, ... (a user block may
    precede it)."""
    offset = 0
    while offset + 8 <= len(data) and offset <= 1 << 20:
        if data[offset:offset + 8] == HDF5_SIGNATURE:
            return True
        offset = 512 if offset == 0 else offset * 2
    return False


def is_zip(data: bytes) -> bool:
    return data[:4] == ZIP_SIGNATURE


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ModelError("reading Keras models needs the h5py package: "
                         "pip install 'microforge[keras]'") from None
    return h5py


# What h5py raises on corrupt content (its RuntimeErrors carry libhdf5's messages).
H5_ERRORS = (KeyError, OSError, ValueError, RuntimeError, TypeError, IndexError, AttributeError)


def _open_h5(data: bytes, what: str):
    h5py = _h5py()
    check_global_heaps(data, what)
    try:
        return h5py.File(io.BytesIO(data), "r")
    except H5_ERRORS as exc:
        raise ModelError(f"{what} is a corrupt or truncated HDF5 file ({exc}); re-save the model"
                         ) from None


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _json(text: Any, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_text(text))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelError(f"{what} is not valid JSON ({str(exc)[:200]}); re-save the model") from None
    if not isinstance(value, dict):
        raise ModelError(f"{what} is not a JSON object; re-save the model")
    return value


def read_h5(data: bytes) -> KerasFile:
    """A Keras 2 (or Keras 3 legacy) HDF5 model file (read in a child process: :mod:`.isolate`)."""
    _h5py()  # imported here, before the fork, so the child does not import it again (~0.1 s)
    meta, weights = in_child(_read_h5, data, "the HDF5 file")
    return KerasFile(meta["config"], weights, meta["version"])


def _read_h5(data: bytes) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    f = _open_h5(data, "the HDF5 file")
    try:
        if "model_config" not in f.attrs:
            raise ModelError("an HDF5 file without a 'model_config' attribute: a weights-only file "
                             "or not a Keras model; save the whole model (model.save('m.h5'))")
        config = _json(f.attrs["model_config"], "the 'model_config' attribute")
        version = _text(f.attrs.get("keras_version", "2"))
        group = _member(f, "model_weights") if "model_weights" in f else f
        weights: dict[str, list[np.ndarray]] = {}
        for name in group:
            layer = _member(group, name)
            names = layer.attrs.get("weight_names", [])
            weights[name] = [_array(_member(layer, _text(w))) for w in names]
        return {"config": config, "version": version}, weights
    except H5_ERRORS as exc:
        raise ModelError(f"corrupt Keras HDF5 content ({type(exc).__name__}: {exc}); re-save the "
                         "model") from None
    finally:
        f.close()


def _member(group, path: str):
    """``group[path]`` through hard links only. HDF5 can link to another file, or keep a dataset's
    data in other files (external storage, virtual datasets), each named by the file and opened
    relative to the working directory: a hostile file would pull any file it names into the
    weights, and from there into the generated C. Keras writes none of these; they are refused."""
    h5py = _h5py()
    node = group
    for part in (p for p in path.split("/") if p):
        link = node.get(part, getlink=True)
        if link is None:
            raise ModelError(f"{node.name.rstrip('/')}/{part} is missing; re-save the model")
        if not isinstance(link, h5py.HardLink):
            target = getattr(link, "filename", None) or getattr(link, "path", "?")
            raise ModelError(f"{node.name.rstrip('/')}/{part} is a {type(link).__name__} to "
                             f"{str(target)[:100]!r}: microforge reads self-contained model files "
                             "only; re-save the model")
        node = node[part]
    return node


def _array(dataset) -> np.ndarray:
    """A weight dataset as float32, refused before reading when larger than the tensor limit, or
    when its data lives in other files (:func:`_member`)."""
    if not hasattr(dataset, "shape") or dataset.shape is None:
        raise ModelError(f"{dataset.name} is not a weight array")
    if dataset.external or dataset.is_virtual:
        raise ModelError(f"{dataset.name} keeps its data in other files ("
                         f"{'virtual dataset' if dataset.is_virtual else dataset.external[0][0]!r}"
                         "): microforge reads self-contained model files only; re-save the model")
    limits.TENSOR_BYTES.check(int(np.prod(dataset.shape, dtype=object)) * 4, dataset.name)
    return np.array(dataset, dtype=np.float32)


def _collect_vars(group, out: list[np.ndarray], depth: int = 0) -> None:
    """A Keras 3 layer's variables: its own ``vars/0..n``, then those of its nested layers."""
    if depth > 32:
        raise ModelError(f"{group.name}: layers nested more than 32 deep (a cyclic file?)")
    if "vars" in group:
        v = _member(group, "vars")
        out.extend(_array(_member(v, k)) for k in sorted(v, key=int))
    for key in group:
        if key != "vars" and hasattr(_member(group, key), "keys"):
            _collect_vars(_member(group, key), out, depth + 1)


def read_keras_zip(data: bytes) -> KerasFile:
    """A Keras 3 ``.keras`` zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "config.json" not in names:
                raise ModelError("a zip without config.json: not a Keras 3 .keras model")
            _check_unzipped_size(z, names)
            config = _json(z.read("config.json"), "config.json")
            meta = _json(z.read("metadata.json"), "metadata.json") if "metadata.json" in names else {}
            blob = z.read("model.weights.h5") if "model.weights.h5" in names else None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:  # NotImplementedError: a compression method; RuntimeError: encrypted
        raise ModelError(f"a corrupt or truncated zip ({exc}); re-save the model") from None
    if blob is None:
        return KerasFile(config, {}, str(meta.get("keras_version", "3")))
    _h5py()  # imported before the fork, as in read_h5
    weights = in_child(_read_weights, blob, "model.weights.h5")[1]
    return KerasFile(config, weights, str(meta.get("keras_version", "3")))


def _check_unzipped_size(z: zipfile.ZipFile, names: set[str]) -> None:
    """A zip bomb (a few MB that inflate to many GB) is refused from the sizes the zip declares,
    before anything is inflated: what microforge reads of it counts against the file size limit
    (``zipfile`` never inflates a member past its declared size)."""
    read = [n for n in ("config.json", "metadata.json", "model.weights.h5") if n in names]
    limits.FILE_BYTES.check(sum(z.getinfo(n).file_size for n in read), "the unzipped .keras content")


def _read_weights(blob: bytes) -> tuple[dict[str, Any], dict[str, list[np.ndarray]]]:
    """A ``.keras`` file's ``model.weights.h5``: float32 arrays by layer name."""
    weights: dict[str, list[np.ndarray]] = {}
    f = _open_h5(blob, "model.weights.h5")
    try:
        layers = _member(f, "layers") if "layers" in f else {}
        for key in layers:
            layer = _member(layers, key)
            vars_group = _member(layer, "vars") if "vars" in layer else None
            name = _text(vars_group.attrs.get("name", key)) if vars_group is not None else key
            weights[name] = []
            _collect_vars(layer, weights[name])
    except H5_ERRORS as exc:
        raise ModelError(f"corrupt model.weights.h5 ({type(exc).__name__}: {exc}); re-save "
                         "the model") from None
    finally:
        f.close()
    return {}, weights
