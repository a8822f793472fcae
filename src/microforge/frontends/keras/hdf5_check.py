"""Checks on an HDF5 file's bytes before libhdf5 reads them.

libhdf5 loops forever on some corrupt files (found by ``benchmarks/fuzz_campaign.py``): a global
heap collection (``GCOL``, where variable-length strings such as ``weight_names`` live) whose
free-space object claims size 0 while space remains. A hang inside native code cannot be
interrupted, so the collections are checked here first: a collection's objects must tile it
exactly, the last being the free space object (index 0) that fills the rest (HDF5 file format
specification, "Global Heap"). A ``GCOL`` that is not a plausible collection header (version 1,
reserved bytes zero, at least the 4 kB libhdf5 allocates, inside the file) is not one and is
skipped, so weight bytes that happen to spell it do not reject a file.
"""

from __future__ import annotations

import struct

from microforge.errors import ModelError

_MIN_COLLECTION = 4096


def check_global_heaps(data: bytes, what: str) -> None:
    """:class:`ModelError` when a global heap collection in ``data`` is inconsistent."""
    start = 0
    while (at := data.find(b"GCOL", start)) >= 0:
        start = at + 4
        if at + 16 > len(data) or data[at + 4] != 1 or data[at + 5 : at + 8] != b"\0\0\0":
            continue
        size = struct.unpack_from("<Q", data, at + 8)[0]
        end = at + size
        if size < _MIN_COLLECTION or end > len(data):
            continue
        pos = at + 16
        while pos + 16 <= end:
            index, _, _, object_size = struct.unpack_from("<HHIQ", data, pos)
            if index == 0:
                if object_size != end - pos:
                    raise ModelError(f"{what} is corrupt: the global heap at byte {at} has a "
                                     f"free-space object of {object_size} bytes where {end - pos} "
                                     "remain (libhdf5 would loop forever); re-save the model")
                break
            pos += 16 + (object_size + 7) // 8 * 8
        if pos > end:
            raise ModelError(f"{what} is corrupt: the global heap at byte {at} has an object past "
                             "its end; re-save the model")
