"""TFLite flatbuffers: the schema table (``schema``) drives both the reader and the writer."""

from microforge.frontends.tflite.reader import TFLITE_IDENTIFIER, parse_tflite, read_tflite
from microforge.frontends.tflite.writer import write_tflite

__all__ = ["TFLITE_IDENTIFIER", "parse_tflite", "read_tflite", "write_tflite"]
