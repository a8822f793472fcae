"""The documentation lists exactly the operators the runtime registers."""

from pathlib import Path

from microforge.runtime.registry import supported_ops

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_ops_table_matches_registry():
    listed = set()
    for line in (DOCS / "ops.md").read_text().splitlines():
        if line.startswith("| ") and not line.startswith("| operator"):
            first = line.split("|")[1].strip()
            listed.update(name.strip() for name in first.split("/"))
    assert listed == set(supported_ops())
