"""Cortex-M targets: firmware build with arm-none-eabi-gcc, verification and measurement under
qemu-system-arm (``firmware``), sizes from the linker map (``mapfile``); the harness, startup code
and linker scripts are the C and .ld files beside them."""
