"""Remake docs/report-person_detect.png and docs/report-lstm.png: `microforge report` pages opened
in headless Debian chromium (Playwright). The LSTM report measures trained_lstm_int8 against
trained_lstm on 16 random inputs in [0, 1); its picture leaves out the memory plan (the
person_detect picture shows one) to stay small."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright
from shared_models import MODELS

DOCS = Path(__file__).resolve().parents[1] / "docs"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run", "--disable-component-update", "--disable-sync"]


def report(model: str, out: Path, *extra: str) -> None:
    subprocess.run([sys.executable, "-m", "microforge", "report", str(MODELS / model), "-o", str(out),
                    "--force", *extra], check=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        cal = tmp / "cal.npy"
        np.save(cal, np.random.default_rng(0).uniform(0, 1, (16, 28, 28)).astype(np.float32))
        report("person_detect.tflite", tmp / "pd.html")
        report("trained_lstm_int8.tflite", tmp / "lstm.html", "--calibration", str(cal),
               "--float", str(MODELS / "trained_lstm.tflite"))
        ctx = p.chromium.launch_persistent_context(str(tmp / "profile"), executable_path="/usr/bin/chromium",
                                                   headless=True, args=ARGS,
                                                   viewport={"width": 1100, "height": 1300})
        page = ctx.new_page()
        page.goto((tmp / "pd.html").as_uri())
        page.locator('[data-op-index="2"]').click()
        page.locator("#colour-by").select_option("cost")
        page.screenshot(path=str(DOCS / "report-person_detect.png"), full_page=False)
        page.set_viewport_size({"width": 1100, "height": 700})
        page.goto((tmp / "lstm.html").as_uri())
        page.locator('[data-op-index="0"]').click()
        page.locator("#colour-by").select_option("quant")
        page.evaluate("document.getElementById('graph').style.height = '300px';"
                      "document.getElementById('details').style.height = '300px';"
                      "document.getElementById('memory-section').style.display = 'none';")  # in the other
        page.screenshot(path=str(DOCS / "report-lstm.png"), full_page=True)
        ctx.close()
    for name in ("report-person_detect.png", "report-lstm.png"):
        print(f"{DOCS / name}: {(DOCS / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
