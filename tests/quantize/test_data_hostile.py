"""Hostile calibration files (issue 15): truncated, corrupted or lying .npy / .npz files are one
InputError, and a .npy header claiming more data than the file holds allocates nothing."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from microforge.errors import InputError
from microforge.ir.builder import GraphBuilder
from microforge.quantize.data import load_calibration


def _inputs():
    b = GraphBuilder()
    x = b.input("x", (1, 3), np.float32)
    b.output(x)
    return [b.build().main.tensors[x]]


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npz(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, x=array)
    return buf.getvalue()


def _huge_header() -> bytes:
    """A .npy header claiming 2^31 - 1 rows of 3 floats (24 GB), followed by 48 bytes."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f4", "fortran_order": False, "shape": (2**31 - 1, 3)})
    return buf.getvalue() + bytes(48)


def _corrupt_member() -> bytes:
    data = bytearray(_npz(np.arange(300, dtype=np.float32).reshape(100, 1, 3)))
    at = data.index(b"x.npy") + 40
    data[at : at + 40] = bytes(40)
    return bytes(data)


CASES = {
    "truncated.npy": _npy(np.zeros((64, 3), np.float32))[:100],
    "huge-header.npy": _huge_header(),
    "truncated.npz": _npz(np.zeros((64, 3), np.float32))[:60],
    "corrupt-member.npz": _corrupt_member(),
    "not-a-zip.npz": b"PK\x03\x04" + bytes(40),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_hostile_calibration_file_is_one_input_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(CASES[name])
    with pytest.raises(InputError) as exc:
        load_calibration(path, _inputs())
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_the_cases_are_what_they_say():
    assert b"2147483647" in CASES["huge-header.npy"]
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(CASES["not-a-zip.npz"]))
