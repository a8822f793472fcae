"""``microforge.frontends.tflite_writer.write_tflite``: the documented path of the TFLite writer."""

from microforge.frontends.tflite.writer import write_tflite

__all__ = ["write_tflite"]
