"""Kernel modules, one per operator family. Importing this package registers them all."""

from microforge.runtime.kernels import shape  # noqa: F401
