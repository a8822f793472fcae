"""A one-line progress indicator on stderr for the long quantization steps (calibration, range
search, rounding optimization). No dependency: it rewrites one line with ``\\r``, appears only
after half a second (short runs stay silent) and only when enabled, which by default means stderr
is a terminal; ``microforge quantize --json`` turns it off."""

from __future__ import annotations

import sys
import time
from typing import TextIO

DELAY = 0.5  # seconds before the line first appears
INTERVAL = 0.1  # seconds between redraws


class Progress:
    """``with Progress("calibrating", total, enabled) as p: ... p.update()``."""

    def __init__(self, label: str, total: int, enabled: bool | None = None,
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label, self.total, self.enabled = label, max(int(total), 1), enabled
        self.done, self.start, self.last, self.shown = 0, time.perf_counter(), 0.0, False
        self.note = ""

    def __enter__(self) -> Progress:
        return self

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        self.note = note or self.note
        now = time.perf_counter()
        if self.enabled and now - self.start >= DELAY and (now - self.last >= INTERVAL
                                                             or self.done >= self.total):
            self.last, self.shown = now, True
            filled = int(20 * min(self.done, self.total) / self.total)
            self.stream.write(f"\rmicroforge: {self.label} [{'#' * filled}{'.' * (20 - filled)}] "
                              f"{self.done}/{self.total} {now - self.start:5.1f} s {self.note[:40]}"
                              "\033[K")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
