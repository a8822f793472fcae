"""C code generation: a standalone C99 library per model (``microforge compile``).

``ops/`` turns each operator (with the params its runtime kernel prepared) into constant data and
one kernel call; ``c/`` holds the real C kernel sources; ``emit.py`` writes the model's .c/.h;
``build.py`` compiles and verifies; ``compiler.py`` is the driver.
"""
