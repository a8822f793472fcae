"""The Keras frontend's errors: an unsupported layer, corrupt or truncated files, a zip without
config.json, an HDF5 file without model_config, h5py missing; each one line, no traceback."""

from __future__ import annotations

import io
import sys
import zipfile

import pytest

import microforge
from microforge.errors import ModelError, UnsupportedOpError
from microforge.frontends import read_model
from microforge.frontends.keras import is_hdf5
from tests.builders.cli import assert_one_line_error, cli


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory):
    keras = pytest.importorskip("keras", reason="keras not installed (optional extra [test])")
    x = keras.Input((4, 4, 2))
    y = keras.layers.Conv2DTranspose(2, 3, name="upsample")(keras.layers.Conv2D(2, 1)(x))
    path = tmp_path_factory.mktemp("unsupported") / "m.keras"
    keras.Model(x, y).save(path)
    return path


def test_unsupported_layer_is_one_line_naming_it(unsupported):
    with pytest.raises(UnsupportedOpError) as error:
        read_model(unsupported)
    message = str(error.value)
    assert "Conv2DTranspose 'upsample'" in message and "supported: Activation, Add" in message
    assert "\n" not in message
    code, _, err = cli("inspect", unsupported)
    assert_one_line_error(code, err, 1, "Conv2DTranspose", "upsample", "LSTM")


@pytest.mark.parametrize("writer", ["keras3.keras", "tf_keras.h5"])
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_file(keras_files, writer, cut):
    data = keras_files[("ds_cnn", writer)].path.read_bytes()
    with pytest.raises(ModelError, match="corrupt or truncated"):
        microforge.load(data[: int(len(data) * cut)])


def test_zip_without_config(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model.weights.h5", b"")
    with pytest.raises(ModelError, match="without config.json"):
        read_model(buf.getvalue())


def test_hdf5_without_model_config(tmp_path):
    h5py = pytest.importorskip("h5py", reason="h5py not installed (optional extra [keras])")
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f["w"] = [1.0, 2.0]
    with pytest.raises(ModelError, match="without a 'model_config'"):
        read_model(path)
    code, _, err = cli("inspect", path)
    assert_one_line_error(code, err, 1, "model_config")


def test_format_is_detected_from_content_not_the_name(keras_files, tmp_path):
    for writer in ("keras3.keras", "tf_keras.h5"):
        renamed = tmp_path / f"model_{writer}.bin"
        renamed.write_bytes(keras_files[("autoencoder", writer)].path.read_bytes())
        assert microforge.load(renamed).outputs[0].shape == (1, 64)


def test_hdf5_signature_after_a_user_block():
    signature = b"\x89HDF\r\n\x1a\n"
    assert is_hdf5(signature + bytes(100))
    assert is_hdf5(bytes(512) + signature + bytes(100))
    assert is_hdf5(bytes(2048) + signature)
    assert not is_hdf5(bytes(300) + signature)


def test_missing_h5py_names_the_extra(keras_files, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ModelError, match=r"microforge\[keras\]"):
        read_model(keras_files[("autoencoder", "tf_keras.h5")].path)


def test_a_zip_bomb_is_refused_from_its_declared_sizes(monkeypatch):
    """config.json of 5,000 bytes (a stand-in for gigabytes) past a 4,000-byte file limit: refused
    before it is inflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", "{" + " " * 4998 + "}")
    assert len(out.getvalue()) < 1000
    monkeypatch.setenv("MICROFORGE_MAX_FILE_BYTES", "4000")
    with pytest.raises(ModelError, match="unzipped .keras content: file size .* 5,000 exceeds"):
        read_model(out.getvalue())


def test_json_nested_past_the_recursion_limit_is_invalid_json():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("config.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="config.json is not valid JSON .maximum recursion depth"):
        read_model(out.getvalue())
