"""The C backend: a standalone C99 library per model (``microforge compile``).

``ops/`` turns each operator (with the params its runtime kernel prepared) into constant data and
one kernel call; ``portable/`` holds the real C kernel sources, ``x86_sse2/`` and ``arm_dsp/``
the variants that replace some of their functions on those targets, and ``sources.py`` picks the
files a model needs; ``emit.py`` writes the model's .c/.h; ``compiler.py`` plans memory and writes
the directory; ``backend.py`` is the :class:`~microforge.backends.base.Backend` object.
"""
