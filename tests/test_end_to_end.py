"""Known outcomes from ../shared/README.md, computed there with the tflite-micro runtime."""

from pathlib import Path

import numpy as np
import pytest

import microforge
from tests.oracle import DATA, MODELS


def read_grey_bmp(path: Path) -> np.ndarray:
    """96×96 8-bit grey BMP → top-down uint8 rows (the file stores rows bottom-up)."""
    raw = path.read_bytes()
    offset = int.from_bytes(raw[10:14], "little")
    width = int.from_bytes(raw[18:22], "little", signed=True)
    height = int.from_bytes(raw[22:26], "little", signed=True)
    stride = (width + 3) // 4 * 4
    rows = np.frombuffer(raw, np.uint8, count=stride * abs(height), offset=offset)
    rows = rows.reshape(abs(height), stride)[:, :width]
    return rows[::-1] if height > 0 else rows


@pytest.mark.parametrize(
    "image, expected",
    [("person.bmp", [-113, 113]), ("no_person.bmp", [57, -57])],
)
def test_person_detection_images(image, expected):
    pixels = read_grey_bmp(DATA / "person_detection" / image)
    # The TFLM example copies the pixel bytes unchanged into the int8 input.
    x = pixels.view(np.int8).reshape(1, 96, 96, 1)
    (scores,) = microforge.load(MODELS / "person_detect.tflite").run(x)
    np.testing.assert_array_equal(scores.reshape(-1), np.array(expected, np.int8))
