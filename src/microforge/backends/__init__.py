"""Backends: code generators for the operators a partition assigns them (``base.py`` says what a
backend is). ``BACKENDS`` is the preference order partitioning tries; the C backend comes last,
as the CPU fallback."""

from __future__ import annotations

from microforge.backends.base import Backend, CompileReport
from microforge.backends.c.backend import CBackend

BACKENDS: tuple[Backend, ...] = (CBackend(),)

__all__ = ["BACKENDS", "Backend", "CBackend", "CompileReport"]
