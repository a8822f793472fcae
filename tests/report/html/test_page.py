"""The page is one self-contained file: styles and script inline, no external reference, the data
as JSON the browser can parse (no NaN), and nothing that closes the script element early."""

from __future__ import annotations

import json
import math
import re

from microforge.frontends import read_model
from microforge.report.html import render_html, report_data
from microforge.report.html.page import asset
from tests.oracle import MODELS


def _embedded(page: str) -> dict:
    text = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    return json.loads(text.group(1))


def test_page_is_self_contained():
    page = render_html(report_data(read_model(MODELS / "micro_speech_quantized.tflite"), title="ms"))
    assert asset("report.css").strip()[:40] in page and asset("report.js").strip()[-40:] in page
    lowered = page.lower()
    for needle in ("<link rel=\"stylesheet\"", "@import", "@font-face", "url(", "<script src",
                   "<img src=\"http", "fetch(", "xmlhttprequest", "https://"):
        assert needle not in lowered, needle
    # the only URL is the SVG namespace, which is a name, not a request
    assert set(re.findall(r"http://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}
    assert "default-src 'none'" in page  # the browser itself refuses any request
    data = _embedded(page)
    assert data["title"] == "ms" and len(data["operators"]) == 4


def test_data_survives_script_breakers_and_non_finite_numbers():
    data = {"title": "</script><!-- x", "summary": {}, "value": math.inf, "nested": [math.nan, 1.5]}
    page = render_html(data)
    assert page.count("</script>") == 2  # the data block and the report script
    parsed = _embedded(page)
    assert parsed["value"] is None and parsed["nested"] == [None, 1.5]
    assert parsed["title"] == "</script><!-- x"
    assert "<title>&lt;/script&gt;&lt;!-- x" in page


def test_assets_are_package_data():
    """An installed wheel has the script and the stylesheet the page inlines."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = setuptools["package-data"]["microforge"]
    for name in ("report.js", "report.css"):
        assert any(fnmatch.fnmatch(f"report/html/{name}", g) for g in globs), name
