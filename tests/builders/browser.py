"""Headless Chromium for the HTML report's tests: Debian's ``chromium`` driven by Playwright, a
fresh profile per browser, no network. Skips (naming what to install) when either is missing,
except under CI (``CI=true``), whose .ci/run installs both: there a missing one fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync"]


def _missing(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI installs it: .ci/run and the test extra)")
    pytest.skip(why)


def chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if path is None:
        _missing("needs Debian's chromium: apt-get install chromium")
    return path


@contextmanager
def browser(width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A Playwright browser context on a fresh user-data-dir."""
    try:
        from playwright import sync_api
    except ImportError:
        _missing("needs playwright: pip install 'microforge[report]'")
    exe = chromium_path()
    with sync_api.sync_playwright() as p, tempfile.TemporaryDirectory(prefix="mf-chromium-") as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=exe, headless=True, args=ARGS,
            viewport={"width": width, "height": height})
        try:
            yield ctx
        finally:
            ctx.close()


class Page:
    """A report opened from disk; ``problems`` collects console errors, page errors and any
    request that leaves the file (the page must need no network)."""

    def __init__(self, ctx, path: Path) -> None:
        self.problems: list[str] = []
        self.page = ctx.new_page()
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.problems.append(f"request: {r.url}")
                     if not r.url.startswith(("file:", "data:")) else None)
        self.page.goto(Path(path).resolve().as_uri())
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.page.close()
