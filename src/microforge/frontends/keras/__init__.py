"""Keras models without Keras: Keras 2 HDF5 (``.h5``) and Keras 3 ``.keras`` files, read with
h5py (the ``keras`` extra) and lowered to the IR as the TFLite converter lowers them."""

from __future__ import annotations

from microforge.errors import ModelError
from microforge.frontends.keras.container import is_hdf5, is_zip, read_h5, read_keras_zip
from microforge.frontends.keras.layers import IDENTITY, LOWERINGS
from microforge.frontends.keras.reader import read_keras
from microforge.ir import Graph


def _parse(read, data: bytes, where: str) -> Graph:
    try:
        return read_keras(read(data))
    except ModelError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def parse_keras_h5(data: bytes, where: str = "<bytes>") -> Graph:
    """A Keras 2 (tf_keras) or Keras 3 legacy HDF5 model file's bytes."""
    return _parse(read_h5, data, where)


def parse_keras_zip(data: bytes, where: str = "<bytes>") -> Graph:
    """A Keras 3 ``.keras`` file's bytes."""
    return _parse(read_keras_zip, data, where)


SUPPORTED_LAYERS = tuple(sorted(LOWERINGS)) + tuple(sorted(IDENTITY))

__all__ = ["SUPPORTED_LAYERS", "is_hdf5", "is_zip", "parse_keras_h5", "parse_keras_zip"]
