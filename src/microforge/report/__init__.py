"""Reports about a model: per-operator summaries, TFLM resolver lists, tables and JSON."""
