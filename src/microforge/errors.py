"""Error hierarchy. Every user-facing failure is one of these; the CLI prints the message on one line.

Exit codes used by the CLI: 2 for usage errors (bad arguments, bad input data given by the user),
1 for model or tool errors (corrupt model, unsupported operator, failing external tool).
"""


class MicroforgeError(Exception):
    """Base class. ``exit_code`` is what the CLI returns for this error."""

    exit_code = 1


class ModelError(MicroforgeError):
    """The model file is corrupt, truncated or not a TFLite flatbuffer, or is internally inconsistent."""


class UnsupportedOpError(ModelError):
    """The model uses an operator (or an operator variant) that microforge cannot run."""


class InputError(MicroforgeError):
    """Data given by the user (input arrays, shapes, dtypes, paths) does not fit the model."""

    exit_code = 2


class UsageError(MicroforgeError):
    """Wrong command-line usage."""

    exit_code = 2


class ToolError(MicroforgeError):
    """An external tool (compiler, oracle runtime) is missing or failed."""
