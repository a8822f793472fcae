"""The stderr progress line: drawn only when enabled (by default: stderr is a terminal) and only
after the first half second, ended with a newline."""

from __future__ import annotations

import io

from microforge.quantize import progress
from microforge.quantize.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_terminal_or_disabled(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    for stream, enabled in ((io.StringIO(), None), (_Tty(), False)):
        with Progress("calibrating", 3, enabled, stream) as bar:
            for _ in range(3):
                bar.update()
        assert stream.getvalue() == ""


def test_a_terminal_gets_one_rewritten_line(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    stream = _Tty()
    with Progress("optimizing rounding", 2, None, stream) as bar:
        bar.update(note="conv1")
        bar.update(note="conv2")
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "optimizing rounding" in text and "2/2" in text and "conv2" in text


def test_short_runs_stay_silent():
    stream = _Tty()
    with Progress("calibrating", 1, True, stream) as bar:
        bar.update()
    assert stream.getvalue() == ""
