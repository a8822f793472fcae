"""The C backend: a standalone C99 library per model (``microforge compile``).

``ops/`` turns each operator (with the params its runtime kernel prepared) into constant data and
one kernel call; ``portable/`` holds the real C kernel sources (SIMD and DSP variants beside it);
``emit.py`` writes the model's .c/.h; ``compiler.py`` plans memory and writes the directory;
``backend.py`` is the :class:`~microforge.backends.base.Backend` object.
"""
