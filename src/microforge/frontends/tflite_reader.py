"""``microforge.frontends.tflite_reader.read_tflite``: the documented path of the TFLite reader."""

from microforge.frontends.tflite.reader import read_tflite

__all__ = ["read_tflite"]
